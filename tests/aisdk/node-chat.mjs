// The AI SDK's `Chat` outside React: `AbstractChat` from the `ai` package with a plain state,
// as @ai-sdk/react's Chat is AbstractChat with a React state. Everything a hook does (sending,
// parsing the stream, building UI messages, stop, regenerate) is the SDK's own code.

/** A ChatState that keeps plain arrays and records each version of the messages it was given. */
class RecordingState {
  constructor(messages = []) {
    this.status = "ready";
    this.error = undefined;
    this.messages = messages;
    this.updates = []; // every assistant message the SDK wrote, as it wrote it
    this.waiters = [];
  }

  pushMessage(message) {
    this.messages = [...this.messages, message];
    this.record(message);
  }

  popMessage() {
    this.messages = this.messages.slice(0, -1);
  }

  replaceMessage(index, message) {
    this.messages = [...this.messages.slice(0, index), message, ...this.messages.slice(index + 1)];
    this.record(message);
  }

  snapshot(thing) {
    return structuredClone(thing);
  }

  record(message) {
    if (message.role !== "assistant") return;
    const copy = structuredClone(message);
    this.updates.push(copy);
    this.waiters = this.waiters.filter(({ predicate, resolve }) => !(predicate(copy) && (resolve(copy), true)));
  }

  /** Resolves with the first assistant message, written from now on, that satisfies `predicate`. */
  waitFor(predicate) {
    return new Promise((resolve) => this.waiters.push({ predicate, resolve }));
  }
}

/** `new NodeChat(ai, init)`: a Chat of the given `ai` module (one pinned version or another). */
export function chatClass(ai) {
  return class NodeChat extends ai.AbstractChat {
    constructor({ messages, ...init }) {
      const state = new RecordingState(messages);
      super({ ...init, state });
      this.recorded = state;
    }

    /** Each text the assistant message held while it streamed, in order. */
    get textUpdates() {
      return this.recorded.updates.map((message) =>
        message.parts
          .filter((part) => part.type === "text")
          .map((part) => part.text)
          .join(""),
      );
    }
  };
}
