/** An in-memory OperatorStore for unit tests, with the copy semantics of a database. Test-only. */
import type { OperatorSession, OperatorStore, OperatorUser } from '#core/operatorAuth';

export class InMemoryOperatorStore implements OperatorStore {
  readonly users = new Map<string, OperatorUser>();
  readonly sessions = new Map<string, OperatorSession>();

  async getUser(username: string) {
    const user = this.users.get(username);
    return user && structuredClone(user);
  }

  async createUser(user: OperatorUser) {
    if (this.users.has(user.username)) return false;
    this.users.set(user.username, structuredClone(user));
    return true;
  }

  async updateUser(username: string, changes: Partial<Omit<OperatorUser, 'username' | 'createdAt'>>) {
    const user = this.users.get(username);
    if (!user) throw new Error(`no operator ${username}`);
    const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
    this.users.set(username, { ...user, ...structuredClone(defined) });
  }

  async listUsers() {
    return [...this.users.values()].map((user) => structuredClone(user));
  }

  async putSession(session: OperatorSession) {
    this.sessions.set(session.sessionHash, structuredClone(session));
  }

  async getSession(sessionHash: string) {
    const session = this.sessions.get(sessionHash);
    return session && structuredClone(session);
  }

  async touchSession(sessionHash: string, lastSeenAt: number) {
    const session = this.sessions.get(sessionHash);
    if (session) this.sessions.set(sessionHash, { ...session, lastSeenAt });
  }

  async deleteSession(sessionHash: string) {
    this.sessions.delete(sessionHash);
  }
}
