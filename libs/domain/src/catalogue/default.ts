import { Catalogue, CatalogueData } from './catalogue';
import data from './catalogue.v1.json';

let cached: Catalogue | null = null;

/** The catalogue that ships with the app (catalogue.v1.json). */
export function defaultCatalogue(): Catalogue {
  cached ??= new Catalogue(data as unknown as CatalogueData);
  return cached;
}
