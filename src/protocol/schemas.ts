/** Zod schemas of every HTTP input; each is also the TypeScript type of what it parses. */
import { z } from "zod";
import { fitsUtf8 } from "../encoding.ts";
import { ChatContent } from "./content.ts";
import { DEFAULT_LIMITS as LIMITS } from "./limits.ts";
import { Text } from "./text.ts";
import { ChatToolParams } from "./tools.ts";

export { Text };

/** The characters and length of a thread ID (response IDs carry one too: responses/ids.ts). */
export const THREAD_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

// URLs drop "." and ".." path segments, so an ID of dots only could never be reached again.
const DOTS_ONLY = /^\.+$/;

/** Whether `s` is a valid thread ID: the check every request path makes before the schema is needed for its error. */
export const isThreadId = (s: string): boolean => THREAD_ID_PATTERN.test(s) && !DOTS_ONLY.test(s);

export const ThreadId = z
  .string()
  .regex(THREAD_ID_PATTERN, "must be 1-128 characters of A-Za-z0-9_.:-")
  .refine((s) => !DOTS_ONLY.test(s), "must not consist of dots only");

export const Metadata = z
  .record(
    Text().max(LIMITS.metadataKeyChars, `keys are at most ${LIMITS.metadataKeyChars} characters`),
    Text().max(LIMITS.metadataValueChars, `values are at most ${LIMITS.metadataValueChars} characters`),
  )
  .refine((m) => Object.keys(m).length <= LIMITS.metadataPairs, `at most ${LIMITS.metadataPairs} pairs`);
export type Metadata = z.infer<typeof Metadata>;

/** Sampling parameters passed to the upstream's chat completions, and the default tools (issue #10). */
export const Params = z.strictObject({
  ...ChatToolParams.shape,
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  max_tokens: z.number().int().min(1).max(131_072).optional(),
  frequency_penalty: z.number().min(-2).max(2).optional(),
  presence_penalty: z.number().min(-2).max(2).optional(),
  seed: z.number().int().optional(),
  stop: z.union([Text(), z.array(Text()).max(4)]).optional(),
});
export type Params = z.infer<typeof Params>;

export const ExpiresAfter = z.strictObject({
  anchor: z.literal("last_active_at"),
  seconds: z.number().int().min(1).max(365 * 86_400),
});
export type ExpiresAfter = z.infer<typeof ExpiresAfter>;

const Model = Text().min(1).max(256);
export const Instructions = Text()
  .refine((s) => fitsUtf8(s, LIMITS.instructionsBytes), `at most ${LIMITS.instructionsBytes} bytes`);

export const ThreadCreate = z.strictObject({
  id: ThreadId.optional(),
  model: Model.optional(),
  instructions: Instructions.nullable().optional(),
  metadata: Metadata.optional(),
  params: Params.optional(),
  expires_after: ExpiresAfter.nullable().optional(),
});
export type ThreadCreate = z.infer<typeof ThreadCreate>;

export const ThreadUpdate = ThreadCreate.omit({ id: true });
export type ThreadUpdate = z.infer<typeof ThreadUpdate>;

export const Role = z.enum(["system", "user", "assistant", "tool"]);
export type Role = z.infer<typeof Role>;

/**
 * Message content: a string, or a list of text and image_url parts; at most
 * LIMITS.contentBytes of UTF-8 as stored (larger is a 413, see thread/content.ts).
 */
export const Content = ChatContent;

const ToolCall = z.strictObject({
  id: z.string().min(1).max(256),
  type: z.literal("function"),
  function: z.strictObject({ name: z.string().min(1).max(256), arguments: z.string() }),
});

export const MessageCreate = z
  .strictObject({
    role: Role,
    content: Content,
    metadata: Metadata.optional(),
    tool_call_id: z.string().min(1).max(256).optional(),
    tool_calls: z.array(ToolCall).min(1).max(128).optional(),
  })
  .superRefine((m, ctx) => {
    if (m.role === "tool" && !m.tool_call_id)
      ctx.addIssue({ code: "custom", path: ["tool_call_id"], message: "is required for role tool" });
    if (m.role !== "tool" && m.tool_call_id)
      ctx.addIssue({ code: "custom", path: ["tool_call_id"], message: "is only allowed for role tool" });
    if (m.role !== "assistant" && m.tool_calls)
      ctx.addIssue({ code: "custom", path: ["tool_calls"], message: "is only allowed for role assistant" });
    if (m.role !== "user" && typeof m.content !== "string" && m.content.some((p) => p.type === "image_url"))
      ctx.addIssue({ code: "custom", path: ["content"], message: "only user messages may hold images" });
    if (m.content === "" && !m.tool_calls)
      ctx.addIssue({ code: "custom", path: ["content"], message: "must not be empty" });
  });
export type MessageCreate = z.infer<typeof MessageCreate>;

export const Strategy = z.enum(["enqueue", "reject", "interrupt"]);
export type Strategy = z.infer<typeof Strategy>;

export const TurnCreate = z.strictObject({
  input: z.union([
    Text().min(1, "must not be empty"),
    z.array(MessageCreate).min(1, "must not be empty"),
  ]),
  stream: z.boolean().optional(),
  model: Model.optional(),
  params: Params.optional(),
  strategy: Strategy.optional(),
  // Tools and structured output for this turn (they override the thread's params).
  ...ChatToolParams.shape,
});
export type TurnCreate = z.infer<typeof TurnCreate>;

export const ForkCreate = z.strictObject({
  id: ThreadId.optional(),
  message_id: z.string().min(1).max(256).optional(),
  metadata: Metadata.optional(),
});
export type ForkCreate = z.infer<typeof ForkCreate>;

/** The cursor-list query every list endpoint takes. */
export const ListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  order: z.enum(["asc", "desc"]).optional(),
  after: z.string().min(1).max(256).optional(),
  before: z.string().min(1).max(256).optional(),
});
export type ListQuery = z.infer<typeof ListQuery>;

/** WebSocket client frames (DESIGN.md, "WebSocket protocol"); parsed before anything is stored or broadcast. */
export const ClientFrame = z.discriminatedUnion("type", [
  // A turn.create frame is a TurnCreate body (streaming aside: a socket always gets the events).
  TurnCreate.omit({ stream: true }).extend({ type: z.literal("turn.create"), request_id: z.string().min(1).max(256).optional() }),
  z.strictObject({ type: z.literal("turn.cancel"), turn_id: z.string().min(1).max(256), request_id: z.string().min(1).max(256).optional() }),
  z.strictObject({ type: z.literal("ping"), request_id: z.string().max(256).optional() }),
]);
export type ClientFrame = z.infer<typeof ClientFrame>;
