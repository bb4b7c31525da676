/**
 * The function app as one module: importing it registers every function with the Functions host, the
 * SCIM routes of the route table (routes.ts) and the group-delete sweep timer. It is the entry point of the
 * deployment bundle (`npm run bundle` → package.json "main", infra/scripts/bundle.mjs); the local host can
 * serve the bundle's `ROUTES` (`npm run start:bundle`), so what is tested is what ships.
 */
export { ROUTES } from './routes';
export { sweepDeletedGroups } from './SweepDeletedGroups';
