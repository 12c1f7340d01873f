type Defined<T> = { [K in keyof T]: Exclude<T[K], undefined> };

/**
 * Drops keys whose value is undefined, so optional fields can be filled from maybe-values under
 * `exactOptionalPropertyTypes` without a conditional spread per field.
 */
export function withoutUndefined<T extends Record<string, unknown>>(value: T): Partial<Defined<T>> {
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) if (item !== undefined) out[key] = item;
  return out as Partial<Defined<T>>;
}
