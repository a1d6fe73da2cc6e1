/**
 * A small agent that keeps its own conversation history and asks for each
 * next reply with `generateCompletionWithMessages`. Every turn is recorded
 * (in-process) into logs.db, threaded into one conversation.
 *
 *   npx tsx examples/agent.ts                      # built-in echo model, default logs.db
 *   LLM_MODEL_NAME=groq/llama-3.1-8b-instant npx tsx examples/agent.ts "Plan a picnic" "Make it vegetarian"
 *
 * In your own project, import from "llm-relay" instead of "../src/index.js".
 */
import { generateCompletionWithMessages, type ChatMessage, type LLMResponse } from "../src/index.js";

/** An agent: a system prompt, the history it keeps, and its running token count. */
class Agent {
  private readonly history: ChatMessage[];
  tokensUsed = 0;

  constructor(systemPrompt: string) {
    this.history = [{ role: "system", content: systemPrompt }];
  }

  /** Sends one user message with the whole history; keeps the reply only when the call succeeded. */
  async ask(userMessage: string): Promise<LLMResponse> {
    const turn: ChatMessage = { role: "user", content: userMessage };
    const response = await generateCompletionWithMessages([...this.history, turn], {
      temperature: 0.2,
      maxTokens: 200,
    });
    if (response.success) {
      this.history.push(turn, { role: "assistant", content: response.content });
      this.tokensUsed += response.tokensUsed;
    }
    return response;
  }

  /** Messages kept so far, the system prompt included. */
  get length(): number {
    return this.history.length;
  }
}

const tasks = process.argv.slice(2);
const agent = new Agent("You are a concise assistant. Answer in one sentence.");
for (const task of tasks.length > 0 ? tasks : ["What is llm-relay?", "Does it record every exchange?", "Thanks!"]) {
  const response = await agent.ask(task);
  console.log(`> ${task}`);
  if (response.success) {
    console.log(
      `${response.content}\n  [${response.modelUsed}, ${response.inputTokens}+${response.outputTokens} tokens, ${(response.responseTime * 1000).toFixed(1)} ms, ${response.finishReason}]`,
    );
  } else {
    console.log(`  error: ${response.error}`);
    process.exitCode = 1;
  }
}
console.log(`${agent.length} messages in the history, ${agent.tokensUsed} tokens used.`);
