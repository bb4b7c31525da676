/** A loopback port nothing listens on (bound once, then closed): for tests of refused connections. */
import { createServer } from 'node:net';

export async function unusedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    await new Promise((resolve) => server.close(resolve));
    return typeof address === 'object' && address ? address.port : 1;
}
