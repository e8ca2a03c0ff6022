export { encodeSessionCursor, parseSessionCursor, type SessionCursorEntry } from './session-cursor.js';
