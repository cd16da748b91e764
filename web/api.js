/**
 * fetch wrapper for the operator pages (console, metrics): JSON in and out, {"error":{code,message}} turned
 * into ApiError, and on 401 a login dialog that POSTs /api/auth/login (cookie session) and retries. The
 * CSRF token from `x-csrf-token` (header or body csrfToken) is sent back on every POST. Works unchanged
 * when the server has no auth at all.
 */

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const CSRF_KEY = 'supportmax.csrfToken';

export function createApiClient({
  doc = globalThis.document,
  fetchImpl = globalThis.fetch.bind(globalThis),
} = {}) {
  let csrfToken = sessionStorage.getItem(CSRF_KEY);
  let loginInProgress = null;

  const rememberCsrf = (token) => {
    if (typeof token === 'string' && token) {
      csrfToken = token;
      sessionStorage.setItem(CSRF_KEY, token);
    }
  };

  async function call(method, path, body) {
    const headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
    const response = await fetchImpl(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    rememberCsrf(response.headers.get('x-csrf-token'));
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!response.ok) {
      const error = data?.error ?? {};
      throw new ApiError(
        response.status,
        error.code ?? `http_${response.status}`,
        error.message ?? `${response.status} ${response.statusText || 'request failed'}`,
      );
    }
    return data;
  }

  async function request(method, path, body) {
    for (let tries = 0; ; tries++) {
      try {
        return await call(method, path, body);
      } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 401 || tries >= 3) throw error;
        // 401 on a POST can also mean a stale CSRF token; logging in again refreshes both.
        await login();
      }
    }
  }

  /** Shows one login dialog however many requests are waiting; resolves once the session is set. */
  function login() {
    if (!loginInProgress) {
      loginInProgress = showLoginDialog(doc, async (username, password) => {
        const data = await call('POST', '/api/auth/login', { username, password });
        rememberCsrf(data?.csrfToken);
      }).finally(() => {
        loginInProgress = null;
      });
    }
    return loginInProgress;
  }

  return {
    get: (path) => request('GET', path),
    post: (path, body = {}) => request('POST', path, body),
    login,
  };
}

function field(doc, labelText, input) {
  const label = doc.createElement('label');
  label.className = 'field';
  const span = doc.createElement('span');
  span.textContent = labelText;
  label.append(span, input);
  return label;
}

function showLoginDialog(doc, submit) {
  return new Promise((resolve, reject) => {
    const dialog = doc.createElement('dialog');
    dialog.className = 'dialog';
    dialog.setAttribute('aria-labelledby', 'login-title');
    const form = doc.createElement('form');
    const title = doc.createElement('h2');
    title.id = 'login-title';
    title.textContent = 'Sign in to continue';
    const username = doc.createElement('input');
    username.name = 'username';
    username.autocomplete = 'username';
    username.required = true;
    const password = doc.createElement('input');
    password.type = 'password';
    password.name = 'password';
    password.autocomplete = 'current-password';
    password.required = true;
    const message = doc.createElement('p');
    message.className = 'form-error';
    message.setAttribute('role', 'alert');
    const actions = doc.createElement('div');
    actions.className = 'dialog-actions';
    const cancel = doc.createElement('button');
    cancel.type = 'button';
    cancel.className = 'button secondary';
    cancel.textContent = 'Cancel';
    const ok = doc.createElement('button');
    ok.type = 'submit';
    ok.className = 'button primary';
    ok.textContent = 'Sign in';
    actions.append(cancel, ok);
    form.append(title, field(doc, 'Username', username), field(doc, 'Password', password), message, actions);
    dialog.append(form);
    doc.body.append(dialog);

    let settled = false;
    const finish = (error) => {
      if (settled) return;
      settled = true;
      dialog.close();
      dialog.remove();
      if (error) reject(error);
      else resolve();
    };
    cancel.addEventListener('click', () => finish(new ApiError(401, 'unauthorized', 'Sign-in cancelled')));
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      finish(new ApiError(401, 'unauthorized', 'Sign-in cancelled'));
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      ok.disabled = true;
      message.textContent = '';
      try {
        await submit(username.value, password.value);
        finish();
      } catch (error) {
        message.textContent =
          error instanceof ApiError && error.status === 401
            ? 'Wrong username or password.'
            : `Could not sign in: ${error.message}`;
        password.select();
      } finally {
        ok.disabled = false;
      }
    });
    dialog.showModal();
    username.focus();
  });
}
