// htpasswd files for the gateway: one bcrypt line per user, as `htpasswd -nbB` writes them. A line that
// still matches its user's password is kept as it was (a new salt would change the Secret at every apply).
import bcrypt from 'bcryptjs';

/**
 * htpasswd's own default cost. nginx checks the hash at every request, so each unit more doubles the CPU
 * a request costs; the passwords `apply` generates are long and random, which is where their strength lies.
 */
export const BCRYPT_COST = 5;

/** user → its htpasswd line (`user:$2y$05$…`), from an htpasswd file's text. */
export function parseHtpasswd(text: string): Map<string, string> {
  const lines = text.split('\n').filter((line) => line.includes(':'));
  return new Map(lines.map((line) => [line.slice(0, line.indexOf(':')), line]));
}

/** The htpasswd file of `users`, reusing the lines of `previous` that still verify. */
export function htpasswdFile(
  users: string[],
  passwords: Record<string, string>,
  previous: Map<string, string> = new Map(),
): string {
  const lines = users.map((user) => {
    const password = passwords[user];
    if (password === undefined) throw new Error(`no password for gateway user "${user}"`);
    const kept = previous.get(user);
    if (kept && verifies(kept, password)) return kept;
    // $2y$ is Apache's prefix for this bcrypt, which every crypt(3) nginx links (glibc's libxcrypt, musl) reads.
    return `${user}:${bcrypt.hashSync(password, BCRYPT_COST).replace(/^\$2b\$/, '$2y$')}`;
  });
  return `${lines.join('\n')}\n`;
}

function verifies(line: string, password: string): boolean {
  const hash = line.slice(line.indexOf(':') + 1);
  try {
    return bcrypt.compareSync(password, hash);
  } catch {
    return false;
  }
}
