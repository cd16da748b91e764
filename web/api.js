/**
 * fetch wrapper for the operator pages (console, metrics): JSON in and out, {"error":{code,message}} turned
 * into ApiError, and on 401 a login dialog that POSTs /api/auth/login (cookie session) and retries; when the
 * server asks for a new password (one-time passwords), a second dialog sets it first. The CSRF token from
 * `x-csrf-token` (header or body csrfToken) is sent back on every POST; a POST refused with 403 fetches it
 * again from /api/auth/me once (another tab may have signed in). Works unchanged when the server has no auth.
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
  /** Called after each completed sign-in, e.g. to reopen a WebSocket with the new session cookie. */
  onSignedIn = () => {},
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
    let csrfRefreshed = false;
    for (let tries = 0; ; tries++) {
      try {
        return await call(method, path, body);
      } catch (error) {
        if (!(error instanceof ApiError) || tries >= 3) throw error;
        if (error.status === 403 && method !== 'GET' && !csrfRefreshed) {
          // Probably a CSRF token this tab does not have yet: the session's token comes with /api/auth/me.
          csrfRefreshed = true;
          const me = await call('GET', '/api/auth/me').catch(() => null);
          rememberCsrf(me?.csrfToken);
          continue;
        }
        if (error.status !== 401) throw error;
        await login();
      }
    }
  }

  /** Shows one login dialog however many requests are waiting; resolves once the session is set. */
  function login() {
    if (!loginInProgress) {
      let currentPassword = '';
      let mustChangePassword = false;
      loginInProgress = showLoginDialog(doc, async (username, password) => {
        const data = await call('POST', '/api/auth/login', { username, password });
        rememberCsrf(data?.csrfToken);
        currentPassword = password;
        mustChangePassword = data?.passwordChangeRequired === true;
      })
        .then(() => {
          if (!mustChangePassword) return undefined;
          return showPasswordDialog(doc, async (newPassword) => {
            const data = await call('POST', '/api/auth/password', { currentPassword, newPassword });
            rememberCsrf(data?.csrfToken);
          });
        })
        .then(() => onSignedIn())
        .finally(() => {
          loginInProgress = null;
          currentPassword = '';
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

function input(doc, name, { type = 'text', autocomplete = name, minLength } = {}) {
  const element = doc.createElement('input');
  element.type = type;
  element.name = name;
  element.autocomplete = autocomplete;
  element.required = true;
  if (minLength) element.minLength = minLength;
  return element;
}

/**
 * A modal form: resolves once `submit` succeeds, rejects with a 401 ApiError when cancelled. `submit` may
 * throw; `failure(error)` words the message shown in the dialog.
 */
function showFormDialog(doc, { id, title, hint, fields, submitLabel, cancelled, submit, failure }) {
  return new Promise((resolve, reject) => {
    const dialog = doc.createElement('dialog');
    dialog.className = 'dialog';
    dialog.setAttribute('aria-labelledby', id);
    const form = doc.createElement('form');
    const heading = doc.createElement('h2');
    heading.id = id;
    heading.textContent = title;
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
    ok.textContent = submitLabel;
    actions.append(cancel, ok);
    const parts = [heading];
    if (hint) {
      const p = doc.createElement('p');
      p.className = 'muted';
      p.textContent = hint;
      parts.push(p);
    }
    form.append(...parts, ...fields.map(([label, element]) => field(doc, label, element)), message, actions);
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
    cancel.addEventListener('click', () => finish(new ApiError(401, 'unauthorized', cancelled)));
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      finish(new ApiError(401, 'unauthorized', cancelled));
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      message.textContent = '';
      ok.disabled = true;
      try {
        await submit();
        finish();
      } catch (error) {
        message.textContent = failure(error);
      } finally {
        ok.disabled = false;
      }
    });
    dialog.showModal();
    fields[0][1].focus();
  });
}

/** The one-time password must be replaced before anything else works. */
function showPasswordDialog(doc, submit) {
  const password = input(doc, 'new-password', {
    type: 'password',
    autocomplete: 'new-password',
    minLength: 12,
  });
  const repeat = input(doc, 'repeat-password', { type: 'password', autocomplete: 'new-password' });
  const mismatch = new Error('The two passwords differ.');
  return showFormDialog(doc, {
    id: 'password-title',
    title: 'Choose a new password',
    hint: 'Your password was set by an administrator. Choose your own: at least 12 characters.',
    fields: [
      ['New password', password],
      ['Repeat new password', repeat],
    ],
    submitLabel: 'Set password',
    cancelled: 'Password change cancelled',
    submit: async () => {
      if (password.value !== repeat.value) throw mismatch;
      await submit(password.value);
    },
    failure: (error) => {
      (error === mismatch ? repeat : password).select();
      return error === mismatch ? mismatch.message : `Could not set the password: ${error.message}`;
    },
  });
}

function showLoginDialog(doc, submit) {
  const username = input(doc, 'username');
  const password = input(doc, 'password', { type: 'password', autocomplete: 'current-password' });
  return showFormDialog(doc, {
    id: 'login-title',
    title: 'Sign in to continue',
    fields: [
      ['Username', username],
      ['Password', password],
    ],
    submitLabel: 'Sign in',
    cancelled: 'Sign-in cancelled',
    submit: () => submit(username.value, password.value),
    failure: (error) => {
      password.select();
      return error instanceof ApiError && error.status === 401
        ? 'Wrong username or password.'
        : `Could not sign in: ${error.message}`;
    },
  });
}
