/**
 * Signed checkpoints (API.md v1.1): the node signs the log's head, (position, hash), with an Ed25519
 * key, and keeps each signature beside the log (the store's records), so an operator can copy them
 * out of the store (an export job, a notary, another organisation) and later prove that the log
 * still holds every saved checkpoint: a truncated tail or a consistently rewritten chain cannot.
 * The key is generated on a first start beside the tokens file (mode 0600) or given by configuration.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, sign, verify } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ChainPoint } from '@careledger/event-store';

export interface SignedCheckpoint {
  position: string;
  hash: string;
  recordedAt: string;
  keyId: string;
  /** Ed25519 over checkpointMessage(position, hash), base64. */
  signature: string;
}

/** The exact bytes a checkpoint's signature covers. */
export function checkpointMessage(position: string | bigint, hash: string): Buffer {
  return Buffer.from(`careledger-checkpoint:v1\n${position.toString()}\n${hash}`, 'utf8');
}

/** A key's id: the first 16 hex digits of the SHA-256 of its public key (DER, SPKI). */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

export class Signer {
  readonly keyId: string;
  readonly publicKey: KeyObject;

  constructor(private readonly privateKey: KeyObject) {
    if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`the signing key must be an Ed25519 key, not ${privateKey.asymmetricKeyType}`);
    this.publicKey = createPublicKey(privateKey);
    this.keyId = keyIdOf(this.publicKey);
  }

  /** The public key as PEM (SPKI), for GET /v1/audit/public-key and third parties. */
  get publicKeyPem(): string {
    return this.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  sign(point: ChainPoint, recordedAt: string): SignedCheckpoint {
    const signature = sign(null, checkpointMessage(point.position, point.hash), this.privateKey).toString('base64');
    return { position: point.position.toString(), hash: point.hash, recordedAt, keyId: this.keyId, signature };
  }

  /** Signs any bytes (a statement's attestation). */
  signBytes(bytes: Buffer): string {
    return sign(null, bytes, this.privateKey).toString('base64');
  }
}

/** Does `checkpoint` carry a valid signature by `publicKey`? */
export function verifyCheckpointSignature(checkpoint: SignedCheckpoint, publicKey: KeyObject): boolean {
  try {
    return verify(null, checkpointMessage(checkpoint.position, checkpoint.hash), publicKey, Buffer.from(checkpoint.signature, 'base64'));
  } catch {
    return false;
  }
}

export interface LoadedKey {
  signer: Signer;
  file: string | null;
  generated: boolean;
}

/**
 * The node's signing key: from CARELEDGER_SIGNING_KEY (PEM text) or the file it names
 * (CARELEDGER_SIGNING_KEY_FILE), else `defaultFile` (beside the tokens file), generated on a first
 * start with mode 0600.
 */
export function loadSigningKey(options: { pem?: string | null; file?: string | null; defaultFile: string }): LoadedKey {
  if (options.pem) return { signer: new Signer(createPrivateKey(options.pem)), file: null, generated: false };
  const file = options.file ?? options.defaultFile;
  if (existsSync(file)) return { signer: new Signer(createPrivateKey(readFileSync(file, 'utf8'))), file, generated: false };
  if (options.file) throw new Error(`CARELEDGER_SIGNING_KEY_FILE names ${file}, which does not exist: create it (an Ed25519 private key, PEM) or unset the variable to generate one.`);
  const { privateKey } = generateKeyPairSync('ed25519');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  chmodSync(file, 0o600);
  return { signer: new Signer(privateKey), file, generated: true };
}
