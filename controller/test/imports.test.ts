import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import { ApiClient, expectStatus, type ApiResponse } from './helpers/client.ts';
import { ADMIN_PASSWORD, startTestController } from './helpers/controller.ts';
import { Fixtures } from './helpers/fixtures.ts';

type Body = Record<string, unknown>;
type DryRun = {
  id: string;
  rows: number;
  valid: number;
  invalid: number;
  preview: { row: number; cells: Record<string, string>; errors: { field: string; message: string }[] }[];
  errors: { row: number; field: string; message: string }[];
};
type Status = { status: string; processed: number; created: number; failed: number; valid: number };
type ErrorBody = { error: { message: string; field?: string } };

const HEADER = 'full_name,phone,username,password,plan_name,connection_type,email,ip_address,account_number';
const csv = (...lines: string[]) => `${lines.join('\r\n')}\r\n`;

describe('Import customers from a CSV (help/import-customers.md)', function () {
  this.timeout(60_000);
  let controller: Awaited<ReturnType<typeof startTestController>>;
  let api: ApiClient;
  let fx: Fixtures;
  let w: Awaited<ReturnType<Fixtures['world']>>;
  let planName: string;
  let staticPlanName: string;

  before(async () => {
    controller = await startTestController();
    api = await new ApiClient(controller.url).login('admin', ADMIN_PASSWORD);
    fx = new Fixtures(api);
    w = await fx.world({ pppoeNetworks: ['10.90.0.0/24'], staticNetworks: ['172.20.0.0/28'] });
    planName = w.pppoe.name as string;
    staticPlanName = w.static.name as string;
  });
  after(async () => controller.stop());

  const upload = (text: string, type = 'text/csv') => api.request<DryRun>('POST', '/imports/customers', text, { 'content-type': type });
  const uploadBytes = async (bytes: Buffer, type: string): Promise<ApiResponse<unknown>> => {
    const res = await fetch(`${controller.url}/api/v1/imports/customers`, {
      method: 'POST',
      body: bytes,
      headers: { cookie: api.cookie!, 'content-type': type },
    });
    return { status: res.status, body: await res.json(), headers: res.headers };
  };
  const dryRun = async (text: string) => expectStatus(await upload(text), 201);
  const until = async (id: string): Promise<Status> => {
    for (;;) {
      const s = expectStatus(await api.get<Status>(`/imports/${id}`), 200);
      if (s.status === 'done' || s.status === 'failed') return s;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const commit = async (id: string) => {
    expectStatus(await api.post(`/imports/${id}/commit`), 202);
    return until(id);
  };
  const customerByUsername = async (username: string) => {
    const list = expectStatus(await api.get<{ items: Body[] }>(`/customers?search=${encodeURIComponent(username)}`), 200);
    return list.items.find((c) => c.username === username);
  };
  const total = async () => expectStatus(await api.get<{ total: number }>('/customers?pageSize=1'), 200).total;
  const refused = (res: ApiResponse<unknown>, status: number, field: string, message: RegExp) => {
    expect(res.status, JSON.stringify(res.body)).to.equal(status);
    const err = (res.body as ErrorBody).error;
    expect(err.field).to.equal(field);
    expect(err.message).to.match(message);
  };

  it('serves the template: exactly the help page’s headers', async () => {
    const res = await api.get('/imports/template.csv');
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/csv/);
    expect(res.headers.get('content-disposition')).to.match(/attachment; filename="?customers-import-template\.csv/);
    expect((res.body as unknown as string).trimEnd()).to.equal(HEADER);
  });

  it('imports the help page’s rows: good ones created with a pool address, bad ones skipped with the page’s error texts', async () => {
    expectStatus(
      await api.post('/customers', fx.customerBody(w.pppoe.id as string, { username: 'existing1', networkId: w.pppoeNetworkId, ipAddress: '10.90.0.50' })),
      201,
    );
    const before = await total();
    const file = csv(
      HEADER,
      `Achieng Otieno,0712345678,achieng.o,s3cret pass,${planName},pppoe,achieng@example.com,,`,
      `"Kamau, John",254722000111,jkamau,p@ss"word,${planName},pppoe,,10.90.0.20,PAY-77`,
      `Static Shop,0733000222,shop01,shoppw,${staticPlanName},static,,172.20.0.5,`,
      `Dup User,0712000001,existing1,pw,${planName},pppoe,,,`,
      `No Plan,0712000002,noplan1,pw,${planName.toUpperCase()},pppoe,,,`,
      `Bad Phone,12345,badphone1,pw,${planName},pppoe,,,`,
      `Hot Spot,0712000004,hotspot1,pw,${planName},hotspot,,,`,
      `Outside,0712000005,outside1,pw,${planName},pppoe,,10.99.0.9,`,
      `Taken,0712000006,takenip1,pw,${planName},pppoe,,10.90.0.50,`,
      `Twice,0712000007,achieng.o,pw,${planName},pppoe,,,`,
    );
    const run = await dryRun(file);
    expect(run).to.include({ rows: 10, valid: 3, invalid: 7 });
    expect(run.errors).to.deep.equal([
      { row: 4, field: 'username', message: 'Username already exists' },
      { row: 5, field: 'plan_name', message: 'Plan not found' },
      { row: 6, field: 'phone', message: 'Invalid phone number' },
      { row: 7, field: 'connection_type', message: 'Unknown connection type' },
      { row: 8, field: 'ip_address', message: 'IP address is not available' },
      { row: 9, field: 'ip_address', message: 'IP address is not available' },
      { row: 10, field: 'username', message: 'Username already exists' },
    ]);
    expect(run.preview[0]!.cells.password).to.equal('••••••');
    expect(run.preview[1]!.cells.full_name).to.equal('Kamau, John');
    expect(await total(), 'a dry run creates nothing').to.equal(before);

    const done = await commit(run.id);
    expect(done).to.include({ status: 'done', processed: 3, created: 3, failed: 0 });
    expect(await total()).to.equal(before + 3);

    const achieng = (await customerByUsername('achieng.o'))!;
    expect(achieng).to.include({ status: 'active', connectionType: 'pppoe', phone: '254712345678', email: 'achieng@example.com', accountNumber: 'achieng.o' });
    expect(achieng.ipAddress as string).to.match(/^10\.90\.0\.\d+$/);
    expect(achieng.ipAddress).to.not.equal('10.90.0.20'); // never an address another row of the file asked for
    expect(new Date(achieng.expiresAt as string).getTime()).to.be.closeTo(Date.now() + 30 * 86_400_000, 120_000);
    const kamau = (await customerByUsername('jkamau'))!;
    expect(kamau).to.include({ fullName: 'Kamau, John', ipAddress: '10.90.0.20', accountNumber: 'PAY-77' });
    expect(expectStatus(await api.get<{ password: string }>(`/customers/${kamau.id}/password`), 200).password).to.equal('p@ss"word');
    expect((await customerByUsername('shop01'))!).to.include({ connectionType: 'static', ipAddress: '172.20.0.5' });
    const jobs = expectStatus(await api.get<{ items: Body[] }>(`/provisioning/jobs?customerId=${kamau.id}`), 200).items;
    expect(jobs).to.have.length(1);
    expect(jobs[0]).to.include({ type: 'customer.apply', routerId: w.router.id });

    const failures = await api.get(`/imports/${run.id}/errors.csv`);
    expect(failures.status).to.equal(200);
    const rows = parse(failures.body as unknown as string, { columns: true, bom: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.username, r.error])).to.deep.equal([
      ['existing1', 'username: Username already exists'],
      ['noplan1', 'plan_name: Plan not found'],
      ['badphone1', 'phone: Invalid phone number'],
      ['hotspot1', 'connection_type: Unknown connection type'],
      ['outside1', 'ip_address: IP address is not available'],
      ['takenip1', 'ip_address: IP address is not available'],
      ['achieng.o', 'username: Username already exists'],
    ]);
    expect(rows[1]!.password).to.equal('pw'); // ready to fix and import again

    // the failures file, fixed, imports again (its error column is ignored)
    const fixed = (failures.body as unknown as string).replace('12345,badphone1', '0712000003,badphone1');
    const again = await dryRun(fixed);
    expect(again.valid).to.equal(1);
    expect(again.errors.find((e) => e.row === 3)).to.equal(undefined);
  });

  it('creates nothing twice when the same file is imported again', async () => {
    const file = csv(HEADER, `Wanjiru A,0711111111,wanjiru.a,pw1,${planName},pppoe,,,`, `Otieno B,0711111112,otieno.b,pw2,${planName},pppoe,,,`);
    expect(await commit((await dryRun(file)).id)).to.include({ created: 2 });
    const before = await total();
    const second = await dryRun(file);
    expect(second).to.include({ valid: 0, invalid: 2 });
    expect(second.errors.map((e) => e.message)).to.deep.equal(['Username already exists', 'Username already exists']);
    expect(await commit(second.id)).to.include({ status: 'done', created: 0 });
    expect(await total()).to.equal(before);
    const res = await api.post(`/imports/${second.id}/commit`);
    expect(res.status, 'a committed import is not committed again').to.equal(409);
  });

  it('checks each row again at commit: a username taken since the dry run fails that row only', async () => {
    const run = await dryRun(csv(HEADER, `Late A,0711222333,late.a,pw,${planName},pppoe,,,`, `Late B,0711222334,late.b,pw,${planName},pppoe,,,`));
    expect(run.valid).to.equal(2);
    expectStatus(
      await api.post('/customers', fx.customerBody(w.pppoe.id as string, { username: 'late.b', networkId: w.pppoeNetworkId, ipAddress: '10.90.0.60' })),
      201,
    );
    expect(await commit(run.id)).to.include({ status: 'done', processed: 2, created: 1, failed: 1 });
    const rows = parse((await api.get(`/imports/${run.id}/errors.csv`)).body as unknown as string, { columns: true, bom: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.username, r.error])).to.deep.equal([['late.b', 'username: Username already exists']]);
  });

  it('refuses the whole file when a header is wrong or missing, naming it', async () => {
    refused(
      await upload(csv(HEADER.replace('full_name', 'Full Name'), `A,0712345678,hdr1,pw,${planName},pppoe,,,`)),
      422,
      'header',
      /Unknown column "Full Name"/,
    );
    refused(
      await upload(csv(HEADER.replace(',account_number', ''), `A,0712345678,hdr1,pw,${planName},pppoe,,`)),
      422,
      'header',
      /Missing column "account_number"/,
    );
    refused(await upload(csv(`${HEADER},phone`, `A,0712345678,hdr1,pw,${planName},pppoe,,,,0712345678`)), 422, 'header', /"phone" appears twice/);
    refused(await upload(csv(HEADER)), 422, 'file', /no customer rows/);
    refused(await upload(''), 422, 'file', /has no file/);
    expect(await customerByUsername('hdr1')).to.equal(undefined);
  });

  it('refuses a file too large, binary or of 100 000 rows with a clear error, writing nothing', async () => {
    const before = await total();
    const big = Buffer.alloc(17 * 1024 * 1024, 'a');
    refused(await uploadBytes(big, 'text/csv'), 422, 'file', /too large: at most 16 MB/);
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');
    refused(await uploadBytes(png, 'text/csv'), 422, 'file', /binary file, not a CSV/);
    const xlsx = Buffer.concat([Buffer.from('PK\u0003\u0004', 'latin1'), Buffer.alloc(64, 1)]);
    refused(await uploadBytes(xlsx, 'application/octet-stream'), 422, 'file', /Excel workbook/);
    const lines = [HEADER];
    for (let i = 0; i < 100_000; i++) lines.push(`C ${i},0712${String(i).padStart(6, '0')},many${i},pw,${planName},pppoe,,,`);
    refused(await upload(csv(...lines)), 422, 'file', /100,000 rows: at most 50,000/);
    expect(await total()).to.equal(before);
  });

  it('stores formula cells as text and neutralises them on export', async () => {
    const formula = `=cmd|' /C calc'!A0`;
    const run = await dryRun(csv(HEADER, `"${formula}",0712340001,formula1,+pw-1,${planName},pppoe,,,`));
    expect(run.valid).to.equal(1);
    await commit(run.id);
    const c = (await customerByUsername('formula1'))!;
    expect(c).to.include({ fullName: formula });
    expect(expectStatus(await api.get<{ password: string }>(`/customers/${c.id}/password`), 200).password).to.equal('+pw-1');
    const text = (await api.get('/customers?format=csv&search=formula1')).body as unknown as string;
    expect(text).to.include(`\r\n'=cmd|' /C calc'!A0,`);
  });

  it('reads what spreadsheets write: BOM, CRLF, quotes, semicolons, a multipart upload', async () => {
    const semi = `\uFEFF${HEADER.replaceAll(',', ';')}\r\n"Njeri; W";0712340002;njeri.w;pw;${planName};pppoe;;;\r\n`;
    const run = await dryRun(semi);
    expect(run).to.include({ valid: 1 });
    expect(run.preview[0]!.cells.full_name).to.equal('Njeri; W');
    const form = new FormData();
    form.append('file', new Blob([csv(HEADER, `Multi Part,0712340003,multipart1,pw,${planName},pppoe,,,`)], { type: 'text/csv' }), 'customers.csv');
    const res = await fetch(`${controller.url}/api/v1/imports/customers`, { method: 'POST', body: form, headers: { cookie: api.cookie! } });
    expect(res.status).to.equal(201);
    const body = (await res.json()) as DryRun;
    expect(body).to.include({ rows: 1, valid: 1 });
    expect(expectStatus(await api.get<{ filename: string }>(`/imports/${body.id}`), 200).filename).to.equal('customers.csv');
  });

  it('round-trips an admin export (passwords included) through the import', async () => {
    const file = csv(HEADER, `Round Trip,0712340010,round1,-starts-with-dash,${planName},pppoe,rt@example.com,10.90.0.77,RT-1`);
    await commit((await dryRun(file)).id);
    const first = (await api.get('/customers?format=csv&search=round1&passwords=true')).body as unknown as string;
    expect(first).to.include(',round1,');
    expect(first).to.include("'-starts-with-dash");
    const c = (await customerByUsername('round1'))!;
    expectStatus(await api.delete(`/customers/${c.id}`), 200);
    const again = await dryRun(first);
    expect(again, JSON.stringify(again.errors)).to.include({ valid: 1, invalid: 0 });
    await commit(again.id);
    const second = (await api.get('/customers?format=csv&search=round1&passwords=true')).body as unknown as string;
    expect(second).to.equal(first);
    const back = (await customerByUsername('round1'))!;
    expect(expectStatus(await api.get<{ password: string }>(`/customers/${back.id}/password`), 200).password).to.equal('-starts-with-dash');
  });

  it('lets only admins export passwords, and only staff and admins import', async () => {
    expectStatus(await api.post('/users', { username: 'importstaff', password: 'staff-password-1', role: 'staff' }), 201);
    expectStatus(await api.post('/users', { username: 'importnoc', password: 'noc-password-12', role: 'noc' }), 201);
    const staff = await new ApiClient(controller.url).login('importstaff', 'staff-password-1');
    const noc = await new ApiClient(controller.url).login('importnoc', 'noc-password-12');
    expect((await staff.get('/customers?format=csv&passwords=true')).status).to.equal(403);
    const plain = (await staff.get('/customers?format=csv&search=round1')).body as unknown as string;
    expect(plain).to.not.include('starts-with-dash');
    expect(
      (await noc.request('POST', '/imports/customers', csv(HEADER, `N,0712345678,nocimp,pw,${planName},pppoe,,,`), { 'content-type': 'text/csv' })).status,
    ).to.equal(403);
    const audit = expectStatus(await api.get<{ items: Body[] }>('/audit?entity=customer&pageSize=50'), 200).items;
    expect(audit.some((a) => a.action === 'customer.export-passwords')).to.equal(true);
  });
});
