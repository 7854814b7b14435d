// Calls to the node's API with the session cookie. Every call carries X-Xcr-Web: the node accepts a cookie-authenticated
// change only with it (a cross-site form or script cannot set it). A 401 means the session ended (token rotated,
// expired): back to the login page.
const headers = { 'X-Xcr-Web': '1', 'Accept': 'application/json' };

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function call(method, path, body) {
  const init = { method, headers: { ...headers }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 401) {
    location.assign('/login');
    throw new ApiError(401, 'the session ended: log in again');
  }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    throw new ApiError(response.status, (data && data.error) || `${method} ${path}: ${response.status}`);
  }
  return data;
}

export const get = (path) => call('GET', path);
export const post = (path, body = {}) => call('POST', path, body);

// A server-sent event stream (the cookie goes with it); handlers by event name. Returns the EventSource to close.
export function stream(path, handlers) {
  const source = new EventSource(path, { withCredentials: true });
  for (const [name, handler] of Object.entries(handlers)) {
    source.addEventListener(name, (e) => handler(JSON.parse(e.data)));
  }
  return source;
}
