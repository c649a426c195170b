// How `npm start` splits a child's output between the terminal and data/logs/<name>.log. The
// bootstrap admin's generated password is printed once on the terminal and never reaches a log file.

const BOOTSTRAP = /Bootstrap admin created\.\s+username: admin\s+password: (\S+)/;
const BOOTSTRAP_NOTE = /^\s*\(shown once/;

/** One readable line from a pino JSON line; other lines as they are. */
export function pretty(line) {
  try {
    const o = JSON.parse(line);
    const level = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' }[o.level] ?? o.level;
    if (level === 'debug' || level === 'trace') return undefined;
    const skip = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname', 'requestId', 'agentId']);
    const extras = Object.entries(o)
      .filter(([k]) => !skip.has(k))
      .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v).slice(0, 160) : v}`)
      .join(' ');
    return `${level.padEnd(5)} ${o.msg ?? ''}${extras ? `  ${extras}` : ''}`;
  } catch {
    return line;
  }
}

/** Whether a line is worth the terminal when it is kept quiet: pino warnings and errors, and plain stderr text. */
export function loud(line, isErr) {
  try {
    const o = JSON.parse(line);
    return typeof o.level === 'number' ? o.level >= 40 : isErr;
  } catch {
    return isErr;
  }
}

/**
 * Reads a child's stream line by line: each line goes to `log(line)` (the log file) and, shortened,
 * to `print(text)` (the terminal) — when `quiet`, only warnings, errors and stderr text. The bootstrap banner goes to neither: its
 * password is handed to `onBootstrap(password)`, which shows it on the terminal only.
 */
export function forwardLines(stream, { log, print, quiet = false, isErr = false, onBootstrap }) {
  let buf = '';
  stream.on('data', (chunk) => {
    buf += chunk.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (!line.trim()) continue;
      const m = BOOTSTRAP.exec(line);
      if (m) {
        onBootstrap(m[1]);
        continue;
      }
      if (BOOTSTRAP_NOTE.test(line)) continue;
      log(line);
      const text = quiet && !loud(line, isErr) ? undefined : pretty(line);
      if (text) print(text);
    }
  });
}
