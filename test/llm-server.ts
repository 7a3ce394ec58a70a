/**
 * A scripted OpenAI-compatible chat server on 127.0.0.1 for the LLM tests.
 * Each request is recorded; `respond` decides the answer (status, body, headers).
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: { model?: string; messages?: { role: string; content: string }[]; temperature?: number; max_tokens?: number };
}

export interface ScriptedReply {
  status?: number;
  /** A string is sent as the assistant's text in a chat-completion body; an object is sent as JSON as is. */
  content?: string;
  raw?: string;
  headers?: Record<string, string>;
}

export interface ChatServer {
  baseUrl: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export function chatCompletionBody(content: string): string {
  return JSON.stringify({
    id: "x",
    object: "chat.completion",
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
  });
}

export async function startChatServer(respond: (req: RecordedRequest, n: number) => ScriptedReply): Promise<ChatServer> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    let data = "";
    req.on("data", (chunk) => (data += chunk));
    req.on("end", () => {
      const rec: RecordedRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: data ? JSON.parse(data) : {},
      };
      requests.push(rec);
      const reply = respond(rec, requests.length);
      const status = reply.status ?? 200;
      const body = reply.raw ?? (reply.content !== undefined ? chatCompletionBody(reply.content) : "");
      res.writeHead(status, { "content-type": "application/json", ...(reply.headers ?? {}) });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
