/**
 * A local OpenAI-compatible server for tests, the chaos drill and the bench: close enough to the real API that the `openai` package cannot tell
 * the difference, plus a script of faults (429, 500, 400, hang, malformed chunk, dropped socket, slow stream)
 * so suites can drive every failure path of the model activities without the internet, and a gate that holds
 * streams midway until the test lets them go on.
 *
 * @example
 * const server = await startOpenAiServer({ apiKey: 'sk-test' });
 * server.script(429, 'ok', 'malformed'); // 1st request 429, 2nd normal, 3rd breaks mid-stream
 * const client = new OpenAI({ baseURL: server.url, apiKey: 'sk-test', maxRetries: 0 });
 * await server.close();
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The request body as the server understood it (only the fields it acts on are typed). */
export interface ChatCompletionBody {
  model?: string;
  messages?: { role: string; content: unknown }[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  [field: string]: unknown;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body; undefined for GET or a body that is not JSON. */
  body: ChatCompletionBody | undefined;
}

/**
 * What the server does with one chat completion request.
 * - a number: answer with that HTTP status and an OpenAI-shaped error body (429 carries `retry-after`);
 * - `ok`: answer normally (useful to let a request through in the middle of a script);
 * - `hang`: send nothing, ever (with `afterChunks`, stall a stream after that many content chunks);
 * - `malformed`: break the SSE stream with an unparsable chunk after `afterChunks` content chunks (default 1);
 * - `drop`: destroy the socket after `afterChunks` content chunks (default 1);
 * - `slow`: stream with `delayMs` between chunks.
 */
export type Fault =
  | number
  | 'ok' | 'hang' | 'malformed' | 'drop' | 'slow'
  | { type: 'error'; status: number; message?: string; code?: string; retryAfterSeconds?: number }
  | { type: 'hang' | 'malformed' | 'drop'; afterChunks?: number }
  | { type: 'slow'; delayMs?: number };

export type AnswerFn = (body: ChatCompletionBody) => string;

export interface OpenAiServerOptions {
  /** When set, requests must carry `Authorization: Bearer <apiKey>` (401 otherwise). */
  apiKey?: string;
  /** Model ids listed by `GET /v1/models`; a chat request naming another model gets OpenAI's 404 `model_not_found`. */
  models?: string[];
  answer?: AnswerFn;
  /** Delay between streamed chunks (and before a non-streaming answer). */
  delayMs?: number;
}

export interface OpenAiServer {
  /** Base URL ending in `/v1`, ready for `new OpenAI({ baseURL })`. */
  readonly url: string;
  /** Every request received, in arrival order (recorded before any fault applies). */
  readonly requests: readonly RecordedRequest[];
  /** Chat completion requests received so far. */
  readonly chatRequests: readonly RecordedRequest[];
  /** Requests being answered right now. */
  readonly inFlight: number;
  /** The most requests that were in flight at the same time. */
  readonly maxConcurrent: number;
  /** Queues faults: each chat completion request takes the next one; when the queue is empty the default applies. */
  script(...faults: Fault[]): void;
  /** The behaviour once the script is used up (`undefined`: answer normally). */
  setFault(fault: Fault | undefined): void;
  setAnswer(answer: AnswerFn): void;
  setDelayMs(delayMs: number): void;
  /**
   * Holds every stream, the ones already open included, before its content chunk number `afterChunks` (0: before
   * the first) until release(): a test acts "mid-stream" at a known point instead of racing a delay. A stream past
   * that point goes on; one whose client went away while held ends when released.
   * @example server.hold(5); … // the client has 5 chunks, no more, for as long as the test needs
   * server.release();
   */
  hold(afterChunks: number): void;
  /** Lets the held streams go on, and new ones through. */
  release(): void;
  /** Forgets requests, counters, script, fault, answer, delay and gate (back to the start options). */
  reset(): void;
  /** Stops listening and destroys open connections, hanging ones included. */
  close(): Promise<void>;
}

/** The default answer names the last user message, so tests can see which messages the model was given. */
export const defaultAnswer: AnswerFn = (body) => {
  const lastUser = [...(body.messages ?? [])].reverse().find((m) => m.role === 'user');
  return `Answer to: ${contentText(lastUser?.content)}`;
};

/** Starts the server on 127.0.0.1 with an ephemeral port. */
export async function startOpenAiServer(options: OpenAiServerOptions = {}): Promise<OpenAiServer> {
  const models = options.models ?? ['test-model'];
  const requests: RecordedRequest[] = [];
  let queue: Fault[] = [];
  let standing: Fault | undefined;
  let answer = options.answer ?? defaultAnswer;
  let delayMs = options.delayMs ?? 0;
  let inFlight = 0;
  let maxConcurrent = 0;
  let sequence = 0;
  let gate: { afterChunks: number; opened: Promise<void>; open(): void } | undefined;
  const release = () => {
    gate?.open();
    gate = undefined;
  };

  const server = createServer((req, res) => {
    inFlight += 1;
    maxConcurrent = Math.max(maxConcurrent, inFlight);
    let counted = true;
    const settled = () => {
      if (counted) inFlight -= 1;
      counted = false;
    };
    res.once('finish', settled).once('close', settled);
    handle(req, res, settled).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, (error as Error).message, 'server_error');
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, settled: () => void): Promise<void> {
    const raw = await readBody(req);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const body = parseJson(raw);
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path, headers: req.headers, body };
    requests.push(recorded);
    res.setHeader('x-request-id', `req_${++sequence}`);

    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return sendError(res, 401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
    }
    if (req.method === 'GET' && path === '/v1/models') {
      return sendJson(res, 200, {
        object: 'list',
        data: models.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'test' })),
      });
    }
    if (path !== '/v1/chat/completions') {
      return sendError(res, 404, `Unknown request URL: ${req.method} ${path}.`, 'invalid_request_error', 'unknown_url');
    }
    if (req.method !== 'POST') {
      return sendError(res, 405, `Method ${req.method} not allowed.`, 'invalid_request_error');
    }
    if (!body || typeof body.model !== 'string' || !Array.isArray(body.messages) || body.messages.length === 0) {
      return sendError(res, 400, "Missing required parameters: 'model' and a non-empty 'messages'.", 'invalid_request_error');
    }
    if (!models.includes(body.model)) {
      const message = `The model \`${body.model}\` does not exist or you do not have access to it.`;
      return sendError(res, 404, message, 'invalid_request_error', 'model_not_found');
    }
    await complete(body, normalize(queue.shift() ?? standing ?? 'ok'), req, res, settled);
  }

  async function complete(
    body: ChatCompletionBody, fault: NormalizedFault, req: IncomingMessage, res: ServerResponse, settled: () => void,
  ): Promise<void> {
    if (fault.type === 'error') {
      if (fault.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(fault.retryAfterSeconds));
      return sendError(res, fault.status, fault.message, errorType(fault.status), fault.code);
    }
    if (fault.type === 'hang' && (fault.afterChunks === undefined || !body.stream)) return; // never answers
    if (fault.type === 'drop' && !body.stream) return void req.socket.destroy();

    const id = `chatcmpl-${sequence}`;
    const created = Math.floor(Date.now() / 1000);
    const model = body.model ?? models[0] ?? 'test-model';
    const limit = body.max_completion_tokens ?? body.max_tokens;
    const allPieces = splitIntoPieces(answer(body));
    const pieces = limit !== undefined && allPieces.length > limit ? allPieces.slice(0, limit) : allPieces;
    const finishReason = pieces.length < allPieces.length ? 'length' : 'stop';
    const text = pieces.join('');
    const usage = {
      prompt_tokens: (body.messages ?? []).reduce((sum, m) => sum + estimateTokens(contentText(m.content)), 0),
      completion_tokens: pieces.length,
      total_tokens: 0,
    };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    const pause = fault.type === 'slow' ? (fault.delayMs ?? Math.max(delayMs, 50)) : delayMs;

    if (!body.stream) {
      await sleep(pause);
      if (fault.type === 'malformed') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"id": ');
      return sendJson(res, 200, {
        id, object: 'chat.completion', created, model, system_fingerprint: 'fp_test',
        choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: finishReason }],
        usage,
      });
    }

    const includeUsage = body.stream_options?.include_usage === true;
    const chunk = (delta: object, finish: string | null) => ({
      id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_test',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(includeUsage ? { usage: null } : {}),
    });
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const send = (data: unknown) => res.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
    send(chunk({ role: 'assistant', content: '', refusal: null }, null));
    const breakAt = fault.type === 'hang' || fault.type === 'malformed' || fault.type === 'drop' ? (fault.afterChunks ?? 1) : Infinity;
    for (const [index, piece] of pieces.entries()) {
      if (index === breakAt) break;
      const held = gate;
      if (held?.afterChunks === index) await held.opened;
      await sleep(pause);
      if (res.destroyed) return; // the client went away (aborted or timed out)
      send(chunk({ content: piece }, null));
    }
    if (fault.type === 'hang') return; // headers and a few chunks, then silence
    // end() flushes what was written, then closes: the client sees a chunked body that never finishes.
    if (fault.type === 'drop') {
      // The connection may take a moment to report 'close', but it stopped being answered now.
      settled();
      return void req.socket.end();
    }
    if (fault.type === 'malformed') return void res.end('data: {"id": "chatcmpl-broken", "choices": [{"delta": {"content\n\n');
    await sleep(pause);
    send(chunk({}, finishReason));
    if (includeUsage) send({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_test', choices: [], usage });
    send('[DONE]');
    res.end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    get requests() {
      return requests;
    },
    get chatRequests() {
      return requests.filter((r) => r.path === '/v1/chat/completions');
    },
    get inFlight() {
      return inFlight;
    },
    get maxConcurrent() {
      return maxConcurrent;
    },
    script: (...faults) => {
      queue.push(...faults);
    },
    setFault: (fault) => {
      standing = fault;
    },
    setAnswer: (fn) => {
      answer = fn;
    },
    setDelayMs: (ms) => {
      delayMs = ms;
    },
    hold: (afterChunks) => {
      release();
      let open = () => {};
      const opened = new Promise<void>((resolve) => (open = resolve));
      gate = { afterChunks, opened, open };
    },
    release,
    reset: () => {
      release();
      requests.length = 0;
      queue = [];
      standing = undefined;
      answer = options.answer ?? defaultAnswer;
      delayMs = options.delayMs ?? 0;
      maxConcurrent = inFlight;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        release();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

type NormalizedFault =
  | { type: 'ok' }
  | { type: 'error'; status: number; message: string; code: string | undefined; retryAfterSeconds: number | undefined }
  | { type: 'hang' | 'malformed' | 'drop'; afterChunks: number | undefined }
  | { type: 'slow'; delayMs: number | undefined };

function normalize(fault: Fault): NormalizedFault {
  if (typeof fault === 'number') return normalize({ type: 'error', status: fault });
  if (fault === 'ok') return { type: 'ok' };
  if (typeof fault === 'string') return normalize({ type: fault } as Exclude<Fault, number | string>);
  switch (fault.type) {
    case 'error':
      return {
        type: 'error',
        status: fault.status,
        message: fault.message ?? defaultErrorMessage(fault.status),
        code: fault.code ?? defaultErrorCode(fault.status),
        retryAfterSeconds: fault.retryAfterSeconds ?? (fault.status === 429 ? 1 : undefined),
      };
    case 'slow':
      return { type: 'slow', delayMs: fault.delayMs };
    default:
      return { type: fault.type, afterChunks: fault.afterChunks };
  }
}

function errorType(status: number): string {
  if (status === 429) return 'requests';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

function defaultErrorMessage(status: number): string {
  if (status === 429) return 'Rate limit reached for requests. Please try again in 1s.';
  if (status === 400) return 'Invalid request: the test server was told to reject it.';
  if (status >= 500) return 'The server had an error while processing your request. Sorry about that!';
  return `Request failed with status ${status}.`;
}

function defaultErrorCode(status: number): string | undefined {
  if (status === 429) return 'rate_limit_exceeded';
  return undefined;
}

function sendError(res: ServerResponse, status: number, message: string, type: string, code?: string): void {
  sendJson(res, status, { error: { message, type, param: null, code: code ?? null } });
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

/** Splits text into word-sized pieces that concatenate back to exactly the text. */
function splitIntoPieces(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? (text ? [text] : []);
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part) => (part as { text?: string }).text ?? '').join('');
  return '';
}

function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4) + 4;
}

function parseJson(raw: string): ChatCompletionBody | undefined {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as ChatCompletionBody;
  } catch {
    return undefined;
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
