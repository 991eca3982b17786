import * as z from './zod';

/** A currency as an ISO 4217 code (EUR, USD, …), EUR when absent: the rule every amount of the service follows. */
export const CurrencySchema = z._default(
  z.string().check(z.regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR')),
  'EUR',
);
