import type { Region } from '../catalogue/catalogue';

export type RegisterServiceCenter = { type: 'RegisterServiceCenter'; centerId: string; name: string; region: Region; at: string };
export type CenterCommand = RegisterServiceCenter;
