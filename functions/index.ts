/**
 * The function app as one module: importing it registers every function with the Functions host, the
 * SCIM routes of the route table (routes.ts), the group-delete sweep timer and the change feed's timer. It is the entry point of the
 * deployment bundle (`npm run bundle` → package.json "main", infra/scripts/bundle.mjs).
 *
 * Besides registering, it exports what a host outside Azure needs to serve the bundle with the bundle's own
 * code throughout, as the Functions worker does: its routes, `createApp`/`readSettings` to build the app they
 * serve, and its copy of the `@azure/functions` classes the request, response and context objects are made of
 * (dev/loadRouteTable.ts, `npm run start:bundle`, test/infra/bundle.test.ts). So what is tested is what ships.
 */
export { ROUTES } from './routes';
export { sweepDeletedGroups } from './SweepDeletedGroups';
export { runChangeFeedMaintenance } from './MaintainChangeFeed';
export { createApp } from '../shared/app';
export { readSettings } from '../shared/config';
export { HttpRequest, HttpResponse, InvocationContext } from '@azure/functions';
