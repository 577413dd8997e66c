/**
 * Content negotiation over the Accept header (RFC 9110 12.5.1): the offer with the highest
 * quality, an exact media type counting before a `type/*` range and that before `*\/*`; on equal
 * quality the first offer (the default). No Accept, or nothing acceptable, is the first offer too:
 * the API answers what it documents rather than 406.
 */
export function preferred<T extends string>(accept: string | string[] | undefined, offers: readonly T[]): T {
  const header = Array.isArray(accept) ? accept.join(',') : accept;
  if (!header) return offers[0];
  const ranges = header.split(',').map((part) => {
    const [type, ...params] = part.trim().toLowerCase().split(';').map((s) => s.trim());
    const q = params.find((p) => p.startsWith('q='));
    const quality = q === undefined ? 1 : Number(q.slice(2));
    return { type, quality: Number.isFinite(quality) ? Math.min(Math.max(quality, 0), 1) : 0 };
  });
  let best: { offer: T; quality: number } | null = null;
  for (const offer of offers) {
    const [major] = offer.split('/');
    // the most specific range that names the offer decides its quality
    const match = ranges.find((r) => r.type === offer) ?? ranges.find((r) => r.type === `${major}/*`) ?? ranges.find((r) => r.type === '*/*');
    if (!match || match.quality <= 0) continue;
    if (!best || match.quality > best.quality) best = { offer, quality: match.quality };
  }
  return best?.offer ?? offers[0];
}
