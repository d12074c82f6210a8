/**
 * A Slack bot end to end: Events API and slash-command requests signed as
 * Slack signs them → the Worker → the conversation's thread object → the mock
 * upstream, and replies to a mock Slack Web API on 127.0.0.1.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MockSlack, SLACK_BOT, slackSignature, slackTs } from "../../mock/slack.ts";
import { echoReply } from "../../mock/upstream.ts";
import { openAiError, type Api } from "../client.ts";
import type { RunningWorker, ServedMock } from "../harness.ts";
import { startBotWorld, type BotWorld, eventually, quietFor } from "./helpers.ts";

const TOKEN = "xoxb-test-token";
const SIGNING_SECRET = "slack-signing-secret-0123";
const USER = "UADA0001";

const slack = new MockSlack(TOKEN);
let world: BotWorld;
let upstream: ServedMock;
let worker: RunningWorker;
let api: Api;
let channelCounter = 0;
const nextChannel = (kind: "C" | "D") => `${kind}${Date.now().toString(36).toUpperCase()}${channelCounter++}`;

beforeAll(async () => {
  world = await startBotWorld(slack.handle, (origin) => ({
    SLACK_BOT_TOKEN: TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: `${origin}/api/`,
  }), { instructions: "You are a Slack test bot.", idleSeconds: "3600" });
  ({ upstream, worker, api } = world);
});

afterAll(async () => {
  await world?.dispose();
});

beforeEach(() => {
  upstream.mock.reply = echoReply;
});

let eventCounter = 0;

/** An Events API envelope around one event, as Slack posts it. */
function envelope(event: Record<string, unknown>, eventId = `Ev${Date.now()}${eventCounter++}`) {
  return { token: "verification-token", team_id: SLACK_BOT.team_id, api_app_id: "A0APP001", type: "event_callback", event_id: eventId,
    event_time: Math.floor(Date.now() / 1000), event: { ...event, event_ts: event.ts } };
}

const mention = (channel: string, text: string, ts = slackTs()) =>
  envelope({ type: "app_mention", user: USER, text: `<@${SLACK_BOT.user_id}> ${text}`, ts, channel });
const channelMessage = (channel: string, text: string, threadTs?: string, ts = slackTs()) =>
  envelope({ type: "message", channel_type: "channel", user: USER, text, ts, channel, ...(threadTs ? { thread_ts: threadTs } : {}) });
const directMessage = (channel: string, text: string) => envelope({ type: "message", channel_type: "im", user: USER, text, ts: slackTs(), channel });

/** Posts a body to the Slack webhook, signed (or with the headers given instead). */
function post(body: string, contentType: string, headers: Record<string, string> = slackSignature(SIGNING_SECRET, body)): Promise<Response> {
  return fetch(`${worker.url}/webhooks/slack`, { method: "POST", headers: { "content-type": contentType, ...headers }, body });
}

const postEvent = (payload: unknown, extra: Record<string, string> = {}) => {
  const body = JSON.stringify(payload);
  return post(body, "application/json", { ...slackSignature(SIGNING_SECRET, body), ...extra });
};

/**
 * The bot's replies in a channel (one thread, if given), once there are
 * `count` of them and the last reads `last`: a reply is posted with its first
 * words and edited as it grows, so a count alone could catch it half-written.
 */
function replies(channel: string, count: number, last: string | RegExp, threadTs?: string): Promise<string[]> {
  return eventually(`${count} replies in ${channel}, the last reading ${last}`, () => {
    const texts = slack.channel(channel, threadTs).map((m) => m.text);
    const end = texts[count - 1];
    return end !== undefined && (typeof last === "string" ? end === last : last.test(end)) ? texts : null;
  });
}

describe("POST /webhooks/{platform} without that platform's secrets", () => {
  it("is a 404 for a platform that is not configured here (Telegram, Discord) and for an unknown one", async () => {
    for (const platform of ["telegram", "discord", "whatsapp"]) {
      const res = await fetch(`${worker.url}/webhooks/${platform}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      expect(res.status).toBe(404);
      expect(openAiError({ status: res.status, headers: res.headers, body: await res.json() }).type).toBe("not_found_error");
    }
  });
});

describe("POST /webhooks/slack", () => {
  it("answers Slack's url_verification challenge", async () => {
    const res = await postEvent({ token: "t", challenge: "challenge-3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", type: "url_verification" });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("challenge-3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
  });

  it("holds a conversation in the thread of a mention, with history, replying in the thread", async () => {
    const channel = nextChannel("C");
    const root = slackTs();
    expect((await postEvent(mention(channel, "My name is Ada.", root))).status).toBe(200);
    await replies(channel, 1, /^echo\(2\): .*My name is Ada\.$/, root);
    expect(slack.calls.find((c) => c.method === "chat.postMessage" && c.body.channel === channel)?.body.thread_ts).toBe(root);

    // A reply in the thread, without a mention: the thread is the bot's conversation now.
    expect((await postEvent(channelMessage(channel, "What is my name?", root))).status).toBe(200);
    await replies(channel, 2, "echo(4): What is my name?", root);
    const messages = await api("GET", `/v1/threads/slack:${channel}:${root}/messages`);
    expect(messages.body.data.map((m: any) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
  });

  it("refuses a bad signature or a timestamp older than 5 minutes with 401, storing and calling nothing", async () => {
    const channel = nextChannel("C");
    const root = slackTs();
    const body = JSON.stringify(mention(channel, "hello", root));
    const before = upstream.mock.requests.length;
    // Refused before Chat SDK initialises: not even its auth.test is called.
    const slackCalls = slack.calls.length;
    expect((await post(body, "application/json", slackSignature("not-the-secret", body))).status).toBe(401);
    expect((await post(body, "application/json", slackSignature(SIGNING_SECRET, body, Math.floor(Date.now() / 1000) - 6 * 60))).status).toBe(401);
    expect((await post(body, "application/json", {})).status).toBe(401);
    await quietFor(1500);
    expect(upstream.mock.requests.length).toBe(before);
    expect(slack.calls.length).toBe(slackCalls);
    expect(slack.channel(channel)).toHaveLength(0);
    expect((await api("GET", `/v1/threads/slack:${channel}:${root}`)).status).toBe(404);
  });

  it("answers an event Slack retries (same event, X-Slack-Retry-Num) once", async () => {
    const channel = nextChannel("C");
    const event = mention(channel, "Only once.");
    expect((await postEvent(event)).status).toBe(200);
    expect((await postEvent(event, { "x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout" })).status).toBe(200);
    await replies(channel, 1, /Only once\.$/);
    await quietFor(2000);
    expect(slack.channel(channel)).toHaveLength(1);
    expect(upstream.mock.chatRequests().filter((r) => String(r.body.messages.at(-1).content).endsWith("Only once."))).toHaveLength(1);
  });

  it("ignores a channel message that does not mention the bot", async () => {
    const channel = nextChannel("C");
    const before = upstream.mock.chatRequests().length;
    expect((await postEvent(channelMessage(channel, "just chatting"))).status).toBe(200);
    await quietFor(2000);
    expect(upstream.mock.chatRequests().length).toBe(before);
    expect(slack.channel(channel)).toHaveLength(0);
  });

  it("talks in a direct message, and /new starts a new session there with a confirmation", async () => {
    const dm = nextChannel("D");
    expect((await postEvent(directMessage(dm, "Remember 7."))).status).toBe(200);
    await replies(dm, 1, "echo(2): Remember 7.");
    const form = new URLSearchParams({ token: "t", team_id: SLACK_BOT.team_id, channel_id: dm, channel_name: "directmessage", user_id: USER,
      user_name: "ada", command: "/new", text: "", response_url: `${world.platformOrigin}/commands/1`, trigger_id: "13345224609.738474920.8088930838d88f008e0" }).toString();
    // A 429 on the confirmation must not hold the command's answer past Slack's 3 seconds.
    slack.rateLimitNext("chat.postMessage", 4);
    const started = Date.now();
    expect((await post(form, "application/x-www-form-urlencoded")).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(3_000);
    await replies(dm, 2, /new conversation/i);
    expect((await api("GET", `/v1/threads/slack:${dm}:`)).status).toBe(404);
    expect((await postEvent(directMessage(dm, "Which number?"))).status).toBe(200);
    await replies(dm, 3, "echo(2): Which number?");
  });

  it("answers /new in a channel with an ephemeral note that it resets DMs, leaving the channel's threads alone", async () => {
    const channel = nextChannel("C");
    const root = slackTs();
    expect((await postEvent(mention(channel, "Remember 7.", root))).status).toBe(200);
    await replies(channel, 1, /^echo\(2\): .*Remember 7\.$/, root);
    const form = new URLSearchParams({ token: "t", team_id: SLACK_BOT.team_id, channel_id: channel, channel_name: "general", user_id: USER,
      user_name: "ada", command: "/new", text: "", response_url: `${world.platformOrigin}/commands/2`, trigger_id: "13345224609.738474920.8088930838d88f008e1" }).toString();
    expect((await post(form, "application/x-www-form-urlencoded")).status).toBe(200);
    const note = await eventually("the ephemeral note", () => slack.ephemerals.find((e) => e.channel === channel) ?? null);
    expect(note.user).toBe(USER);
    expect(note.text).toMatch(/direct message/i);
    expect(slack.channel(channel)).toHaveLength(1);
    expect((await api("GET", `/v1/threads/slack:${channel}:${root}/messages`)).body.data).toHaveLength(2);
  });

  it("shows a slow reply as it grows: posted in the thread, then edited (chat.update) to the whole text", async () => {
    const channel = nextChannel("C");
    const root = slackTs();
    const reply = Array.from({ length: 12 }, (_, i) => `word${i}`).join(" ");
    upstream.mock.reply = () => reply;
    upstream.mock.chunkDelayMs = 400;
    try {
      expect((await postEvent(mention(channel, "Stream it.", root))).status).toBe(200);
      await eventually("the whole reply", () => slack.channel(channel, root)[0]?.text === reply || null, 30_000);
    } finally {
      upstream.mock.chunkDelayMs = 0;
    }
    const posted = slack.calls.find((c) => c.method === "chat.postMessage" && c.body.channel === channel)!;
    expect(posted.body.markdown_text ?? posted.body.text).not.toBe(reply);
    const edits = slack.calls.filter((c) => c.method === "chat.update" && c.body.channel === channel);
    expect(edits.length).toBeGreaterThan(0);
    // At most one edit every 1.5 s: within Slack's rate limit for chat.update.
    for (let i = 1; i < edits.length; i++) expect(edits[i]!.at - edits[i - 1]!.at).toBeGreaterThanOrEqual(1_400);
    expect(slack.channel(channel, root)).toHaveLength(1);
  });

  it("apologises in the thread when the upstream fails", async () => {
    const channel = nextChannel("C");
    const root = slackTs();
    upstream.mock.fail({ kind: "status", status: 503 });
    expect((await postEvent(mention(channel, "Anyone?", root))).status).toBe(200);
    await replies(channel, 1, /^Sorry/, root);
  });

  it("waits out a 429 from chat.postMessage for its Retry-After, then delivers", async () => {
    const dm = nextChannel("D");
    slack.rateLimitNext("chat.postMessage", 2);
    expect((await postEvent(directMessage(dm, "Rate limited?"))).status).toBe(200);
    expect(await replies(dm, 1, "echo(2): Rate limited?")).toEqual(["echo(2): Rate limited?"]);
    const posts = slack.calls.filter((c) => c.method === "chat.postMessage" && c.body.channel === dm);
    expect(posts).toHaveLength(2);
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(2_000);
  });
});
