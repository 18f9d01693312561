// What the page has loaded and chosen, shared by its modules.

export const state = {
  characters: [],
  character: null, // the selected character summary
  chats: [],
  chat: null, // the open chat (summary + messages)
  controller: null, // the AbortController of the reply being streamed
  composing: false, // an IME composition is under way in the message box
  avatars: new Map(), // character id -> Promise of its avatar's blob URL (or null)
};
