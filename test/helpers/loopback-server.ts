/** Starting and stopping the tests' fake upstreams: an HTTP server on 127.0.0.1 that closes its open connections on stop. */
import type { Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** A server listening on an ephemeral loopback port. */
export interface Listening {
  port: number;
  /** Destroys open connections (keep-alive, held requests), then closes the server. */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1, port 0, tracking connections so `close` does not wait for idle keep-alive ones. */
export async function listenOnLoopback(server: Server): Promise<Listening> {
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
