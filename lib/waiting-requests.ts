/**
 * The global cap of one API process: requests that hold a blocking Redis read (a POST /chat waiting for its
 * reply, an open event stream), each on a connection of its own. Past the cap a chat is answered 202 at once and a
 * stream 503, instead of opening connections until Redis refuses them.
 */
export class WaitingRequests {
  private count = 0;

  constructor(private readonly max: number) {}

  /** Takes a place; false when all are taken (then do not call leave()). */
  tryEnter(): boolean {
    if (this.count >= this.max) return false;
    this.count += 1;
    return true;
  }

  leave(): void {
    this.count -= 1;
  }
}
