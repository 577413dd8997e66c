/** Facts of the service-center directory (stream `service-center-<centerId>`). */
import type { Region } from '../catalogue/catalogue';
import type { EventCorrected } from '../correction/events';
import type { IsoInstant } from '../time';

export type ServiceCenterRegistered = {
  type: 'ServiceCenterRegistered';
  data: { centerId: string; name: string; region: Region; at: IsoInstant };
};

export type CenterEvent = ServiceCenterRegistered | EventCorrected;

export const SERVICE_CENTER_STREAM_PREFIX = 'service-center-';
export const serviceCenterStream = (centerId: string): string => `${SERVICE_CENTER_STREAM_PREFIX}${centerId}`;
