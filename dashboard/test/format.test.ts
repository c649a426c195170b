import { expect } from 'chai';
import { dateTime, money, phone, plural, singular, validity, zonedToIso } from '../src/lib/format.ts';

describe('formatting for staff', () => {
  it('shows amounts as KES with thousands separators, from the API’s decimal strings', () => {
    expect(money('1500.00')).to.equal('KES 1,500.00');
    expect(money('50')).to.equal('KES 50.00');
    expect(money('1234567.5')).to.equal('KES 1,234,567.50');
    expect(money('-749.50')).to.equal('−KES 749.50');
    expect(money(null)).to.equal('—');
  });

  it('shows times in the ISP’s time zone, and reads typed times in it', () => {
    expect(dateTime('2025-11-27T06:14:00Z', 'Africa/Nairobi')).to.equal('27 Nov 2025, 09:14');
    expect(zonedToIso('2025-11-27T09:14', 'Africa/Nairobi')).to.equal('2025-11-27T06:14:00.000Z');
    expect(zonedToIso('2025-07-01T12:00', 'Europe/London')).to.equal('2025-07-01T11:00:00.000Z');
    expect(zonedToIso('', 'Africa/Nairobi')).to.equal(undefined);
  });

  it('writes stored phone numbers the way people read them', () => {
    expect(phone('254712345678')).to.equal('+254 712 345 678');
    expect(phone('0712')).to.equal('0712');
    expect(phone('254712345678', true)).to.equal('0712 345 678');
    expect(phone('254110000111', true)).to.equal('0110 000 111');
  });

  it('pluralises counts: never "1 hours"', () => {
    expect(validity({ count: 1, unit: 'hours' })).to.equal('1 hour');
    expect(validity({ count: 7, unit: 'days' })).to.equal('7 days');
    expect(plural(1, 'customer')).to.equal('1 customer');
    expect(plural(0, 'customer')).to.equal('0 customers');
    expect(plural(2, 'entry')).to.equal('2 entries');
    expect(plural(1200, 'payment')).to.equal('1,200 payments');
    expect(singular('entries')).to.equal('entry');
    expect(singular('jobs')).to.equal('job');
  });
});
