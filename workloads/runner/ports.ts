import { createServer } from "node:net";

/** Free TCP ports on this machine, from the kernel (listen on port 0), for servers of local targets. */
export async function allocatePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once("error", reject);
      srv.listen(0, "0.0.0.0", () => {
        const addr = srv.address();
        srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
      });
    });
    if (!ports.includes(port)) ports.push(port);
  }
  return ports;
}
