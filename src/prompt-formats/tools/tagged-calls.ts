/**
 * A stream parser for conventions whose calls sit between an opening and a
 * closing tag (Hermes' `<tool_call>…</tool_call>`): text before the first
 * opening tag streams out as it arrives (holding back only what could be
 * the start of the tag, and whitespace that may turn out to precede it);
 * from the first tag on, the text is buffered and each block is handed out
 * when its closing tag arrives. Whitespace between blocks is dropped;
 * other text after the first tag comes out at `end()`.
 */
import type { ToolCallBlock, ToolParseResult, ToolStreamOutput, ToolStreamParser } from "./types.js";
import { isParsedCall } from "./types.js";

/** The tags and how a block's inside becomes a call. */
export interface TaggedCallSyntax {
  open: string;
  close: string;
  /**
   * Reads the text between the tags.
   * @param inner the text between the tags
   * @param text the block's whole source (leading whitespace, tags), to keep in the result
   */
  readBlock(inner: string, text: string): ToolCallBlock;
}

/** A new stream parser for `syntax`. */
export function createTaggedStreamParser(syntax: TaggedCallSyntax): ToolStreamParser {
  const { open, close } = syntax;
  /** `text`: before the first tag; `call`: inside a block; `after`: between/after blocks. */
  let mode: "text" | "call" | "after" = "text";
  /** Text not handed out yet in the current mode. */
  let pending = "";
  /** The source of the current block so far: leading whitespace and the opening tag. */
  let lead = "";
  /** Non-whitespace text seen after the first tag, outside blocks. */
  let afterText = "";

  function run(): ToolStreamOutput {
    const out: { content: string; calls: ToolCallBlock[] } = { content: "", calls: [] };
    for (;;) {
      if (mode === "text") {
        const at = pending.indexOf(open);
        if (at < 0) {
          const safe = pending.length - partialTagLength(pending, open);
          const emitEnd = safe - trailingSpaceLength(pending.slice(0, safe));
          out.content += pending.slice(0, emitEnd);
          pending = pending.slice(emitEnd);
          break;
        }
        const before = pending.slice(0, at);
        const space = trailingSpaceLength(before);
        out.content += before.slice(0, before.length - space);
        lead = before.slice(before.length - space) + open;
        pending = pending.slice(at + open.length);
        mode = "call";
      } else if (mode === "call") {
        const at = pending.indexOf(close);
        if (at < 0) break;
        const inner = pending.slice(0, at);
        out.calls.push(syntax.readBlock(inner, lead + inner + close));
        pending = pending.slice(at + close.length);
        mode = "after";
      } else {
        const at = pending.indexOf(open);
        if (at < 0) break;
        const between = pending.slice(0, at);
        const space = trailingSpaceLength(between);
        afterText += between.slice(0, between.length - space);
        lead = between.slice(between.length - space) + open;
        pending = pending.slice(at + open.length);
        mode = "call";
      }
    }
    return outputOf(out.content, out.calls);
  }

  return {
    push(textDelta: string): ToolStreamOutput {
      pending += textDelta;
      return run();
    },
    end(): ToolStreamOutput {
      const calls: ToolCallBlock[] = [];
      let content = "";
      if (mode === "text") content = pending;
      else if (mode === "call") {
        // An unclosed last block (the model stopped right after the call): read as it is.
        const block = syntax.readBlock(pending, lead + pending);
        calls.push(isParsedCall(block) ? block : { problem: `unclosed ${open}: ${block.problem}`, text: block.text });
      } else afterText += pending;
      if (mode !== "text" && afterText.trim() !== "") content = afterText;
      pending = "";
      afterText = "";
      mode = "text";
      return outputOf(content, calls);
    },
  };
}

/**
 * Reads a whole answer with a stream parser: the content is the text
 * around the calls and the malformed blocks' text (trimmed when there are
 * calls; the text itself when there are none).
 */
export function parseWhole(parser: ToolStreamParser, text: string): ToolParseResult {
  const pieces = [parser.push(text), parser.end()];
  let content = "";
  const calls: ToolParseResult["calls"] = [];
  let problem: string | undefined;
  for (const piece of pieces) {
    content += piece.content ?? "";
    for (const block of piece.calls ?? []) {
      if (isParsedCall(block)) calls.push(block);
      else {
        problem ??= block.problem;
        content += block.text;
      }
    }
  }
  return { content: calls.length > 0 ? content.trim() : content, calls, ...(problem ? { problem } : {}) };
}

function outputOf(content: string, calls: ToolCallBlock[]): ToolStreamOutput {
  return { ...(content !== "" ? { content } : {}), ...(calls.length > 0 ? { calls } : {}) };
}

/** The length of the longest end of `text` that is a proper start of `tag`. */
function partialTagLength(text: string, tag: string): number {
  for (let length = Math.min(tag.length - 1, text.length); length > 0; length--)
    if (tag.startsWith(text.slice(text.length - length))) return length;
  return 0;
}

/** The length of the whitespace at the end of `text`. */
function trailingSpaceLength(text: string): number {
  return text.length - text.trimEnd().length;
}
