import type { Region } from '../catalogue/catalogue';
import type { PairingKind, VerificationMethod } from './events';

export type ActivateDevice = { type: 'ActivateDevice'; serial: string; model: string; region: Region; activatedAt: string };
export type ChangePairing = { type: 'ChangePairing'; serial: string; kind: PairingKind; ref: string; action: 'bind' | 'unbind'; at: string };
export type RecordVerification = { type: 'RecordVerification'; serial: string; method: VerificationMethod; notifiedAt: string };

export type DeviceCommand = ActivateDevice | ChangePairing | RecordVerification;
