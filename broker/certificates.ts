/**
 * The certificates of the secured local broker (./secure): a CA made with openssl at every start, the
 * broker's certificate for 127.0.0.1 / localhost and a client certificate for mutual TLS, both signed by
 * it; the CA's key is deleted once they are signed, so nothing that could sign another is left behind.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runChecked } from './broker';

/** A client certificate and its key (PKCS#8 PEM, unencrypted). */
export interface ClientCertificate {
  certFile: string;
  keyFile: string;
}

/** Where a secured broker in `dir` keeps its certificates (makeCertificates writes them). */
export function certificateFiles(dir: string): {
  caFile: string;
  keystore: string;
  clientCertificate: ClientCertificate;
} {
  return {
    caFile: join(dir, 'ca.pem'),
    keystore: join(dir, 'broker.p12'),
    clientCertificate: { certFile: join(dir, 'client.pem'), keyFile: join(dir, 'client.key') },
  };
}

/**
 * A CA, a certificate for 127.0.0.1 / localhost signed by it (the keystore as PKCS#12, which Java reads as
 * is) and a client certificate signed by it for mutual TLS.
 */
export function makeCertificates(dir: string, password: string): ReturnType<typeof certificateFiles> {
  const days = ['-days', '30'];
  runChecked(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      ...days,
      '-subj',
      '/CN=kafka-serverless local CA',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
    ],
    dir,
  );
  runChecked(
    'openssl',
    ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'broker.key', '-out', 'broker.csr'],
    dir,
  );
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  runChecked(
    'openssl',
    [
      'x509',
      '-req',
      '-in',
      'broker.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      ...days,
      '-extfile',
      'san.ext',
      '-out',
      'broker.pem',
    ],
    dir,
  );
  runChecked(
    'openssl',
    [
      'pkcs12',
      '-export',
      '-in',
      'broker.pem',
      '-inkey',
      'broker.key',
      '-certfile',
      'ca.pem',
      '-name',
      'broker',
      '-out',
      'broker.p12',
      '-passout',
      `pass:${password}`,
    ],
    dir,
  );
  runChecked(
    'openssl',
    [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=local-client',
      '-keyout',
      'client.key',
      '-out',
      'client.csr',
    ],
    dir,
  );
  runChecked(
    'openssl',
    ['x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', ...days].concat([
      '-out',
      'client.pem',
    ]),
    dir,
  );
  // the CA's key is not needed once the broker's and the client's certificates are signed
  rmSync(join(dir, 'ca.key'), { force: true });
  return certificateFiles(dir);
}
