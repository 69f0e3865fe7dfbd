// A SearXNG for the service's web search tool that answers only when a test says so: what lets a
// test see a tool part while its tool is still running. It listens where the pytest runner
// pointed the service (SEARCH_SERVICE) and parks every request until the test answers it.

import { createServer } from "node:http";

export class HeldSearchService {
  constructor() {
    this.parked = []; // requests not yet handed to a test
    this.waiting = []; // tests waiting for a request
    this.server = createServer((request, response) => {
      const url = new URL(request.url, "http://search");
      const held = {
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        answer(body) {
          response.writeHead(200, { "content-type": "application/json" });
          response.end(JSON.stringify(body));
        },
      };
      const waiter = this.waiting.shift();
      if (waiter) waiter(held);
      else this.parked.push(held);
    });
  }

  /** Listen on the address the service was given. */
  start(address) {
    const { hostname, port } = new URL(address);
    return new Promise((resolve) => this.server.listen(Number(port), hostname, resolve));
  }

  /** The next search the tool asks for, once it has arrived; unanswered until `answer(body)`. */
  nextRequest() {
    const parked = this.parked.shift();
    return parked ? Promise.resolve(parked) : new Promise((resolve) => this.waiting.push(resolve));
  }

  close() {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(resolve));
  }
}
