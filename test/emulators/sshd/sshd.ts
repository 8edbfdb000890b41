// A real OpenSSH server for tests: its own sshd on a free loopback port, a temporary ed25519 host
// key, one authorized client key, and a chrooted internal-sftp directory. Runs as root (chroot).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { join } from 'node:path'

export const SSHD = '/usr/sbin/sshd'
const BASE = '/var/lib/nl2q-test-sshd'

export interface Sshd {
  port: number
  /** The chroot on the local disk: `root/out`, `root/inbox` are what the client sees as `/out`, `/inbox`. */
  root: string
  user: string
  /** OpenSSH `SHA256:…` of the server's host key. */
  hostKeySha256: string
  /** The client's private key (OpenSSH format) and the path of its file. */
  clientKey: string
  clientKeyPath: string
  /** `sftp://root@127.0.0.1:<port>/<dir>` */
  url(dir: string): string
  /** SIGKILL sshd and every session process it forked (a crash mid-transfer). */
  kill(): void
  /** Start sshd again on the same port (after kill). */
  restart(): Promise<void>
  stop(): Promise<void>
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address()
      s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0))
    })
  })
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1')
    sock.once('data', () => {
      sock.destroy()
      resolve(true)
    })
    sock.once('error', () => resolve(false))
    sock.setTimeout(2000, () => {
      sock.destroy()
      resolve(false)
    })
  })
}

/** Every descendant of a pid, from /proc (session processes re-parent under sshd). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      const list = children.get(ppid) ?? []
      list.push(Number(entry))
      children.set(ppid, list)
    } catch {
      // the process ended while we looked
    }
  }
  const out: number[] = []
  const queue = [pid]
  while (queue.length > 0 && out.length < 10_000) {
    const p = queue.shift() as number
    for (const c of children.get(p) ?? []) {
      out.push(c)
      queue.push(c)
    }
  }
  return out
}

export async function startSshd(): Promise<Sshd> {
  // Not under /tmp: every component of a ChrootDirectory must be root-owned and not world-writable.
  mkdirSync(BASE, { recursive: true, mode: 0o755 })
  const dir = mkdtempSync(join(BASE, 'sshd-'))
  const root = join(dir, 'chroot')
  // ChrootDirectory: every component root-owned and not writable by others; the subdirs are the user's.
  mkdirSync(root, { mode: 0o755 })
  for (const sub of ['out', 'inbox']) mkdirSync(join(root, sub), { mode: 0o755 })
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 })
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')])
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client_key')])
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')), { mode: 0o600 })
  const hostKeySha256 = (
    execFileSync('ssh-keygen', ['-lf', join(dir, 'host_key.pub')], { encoding: 'utf8' }).split(' ')[1] ?? ''
  ).trim()
  const user = 'root'
  let port = 0
  let child: ChildProcess | undefined
  const log: string[] = []

  async function launch(): Promise<void> {
    writeFileSync(
      join(dir, 'sshd_config'),
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(dir, 'host_key')}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'StrictModes no',
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication yes',
        'UsePAM no',
        'MaxStartups 50',
        'LogLevel ERROR',
        'Subsystem sftp internal-sftp',
        `Match User ${user}`,
        `  ChrootDirectory ${root}`,
        '  ForceCommand internal-sftp',
        '  AllowTcpForwarding no',
        '  X11Forwarding no',
        '',
      ].join('\n'),
    )
    child = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] })
    child.stderr?.on('data', (d: Buffer) => log.push(d.toString()))
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null) throw new Error(`sshd exited: ${log.join('')}`)
      if (await accepts(port)) return
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error(`sshd did not listen on ${port}: ${log.join('')}`)
  }

  for (let attempt = 0; ; attempt++) {
    port = await freePort()
    try {
      await launch()
      break
    } catch (err) {
      child?.kill('SIGKILL')
      if (attempt >= 3) {
        rmSync(dir, { recursive: true, force: true })
        throw err
      }
    }
  }

  function kill(): void {
    const pid = child?.pid
    if (!pid) return
    for (const p of [pid, ...descendants(pid)]) {
      try {
        process.kill(p, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    child = undefined
  }

  return {
    get port() {
      return port
    },
    root,
    user,
    hostKeySha256,
    clientKey: readFileSync(join(dir, 'client_key'), 'utf8'),
    clientKeyPath: join(dir, 'client_key'),
    url: (d) => `sftp://${user}@127.0.0.1:${port}/${d.replace(/^\//, '')}`,
    kill,
    restart: launch,
    async stop() {
      kill()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
