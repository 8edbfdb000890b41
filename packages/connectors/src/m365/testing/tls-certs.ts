import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TestPki {
  /** The CA certificate to trust (PEM); its private key is discarded. */
  caPem: string
  /** The server's key and certificate (SAN localhost and 127.0.0.1), signed by the CA. */
  keyPem: string
  certPem: string
}

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: 'pipe' })

/** A throw-away CA and a loopback server certificate, made with the system's openssl. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'nl2q-pki-'))
  try {
    openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.pem',
        '-days',
        '2',
        '-subj',
        '/CN=nl2q test CA',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      dir,
    )
    openssl(
      [
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'server.key',
        '-out',
        'server.csr',
        '-subj',
        '/CN=localhost',
      ],
      dir,
    )
    writeFileSync(
      join(dir, 'ext.cnf'),
      'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n',
    )
    openssl(
      [
        'x509',
        '-req',
        '-in',
        'server.csr',
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        'server.pem',
        '-days',
        '2',
        '-extfile',
        'ext.cnf',
      ],
      dir,
    )
    return {
      caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
      keyPem: readFileSync(join(dir, 'server.key'), 'utf8'),
      certPem: readFileSync(join(dir, 'server.pem'), 'utf8'),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** A self-signed client certificate + key (PEM, both in one string) for certificate credentials. */
export function makeClientCertificate(): { pem: string; certPem: string } {
  const dir = mkdtempSync(join(tmpdir(), 'nl2q-pki-'))
  try {
    openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'c.key',
        '-out',
        'c.pem',
        '-days',
        '2',
        '-subj',
        '/CN=nl2q app',
      ],
      dir,
    )
    const certPem = readFileSync(join(dir, 'c.pem'), 'utf8')
    return { pem: `${readFileSync(join(dir, 'c.key'), 'utf8')}${certPem}`, certPem }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
