// /etc/hosts and /etc/resolv.conf as dockerd writes them, and the link syntax.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostsFile, parseExtraHost, parseLink, resolvConf } from '../../src/network/etc-files.ts';

const HOST = '# from DHCP\nnameserver 127.0.0.53\nnameserver 10.1.1.1\nsearch corp.example lan\noptions edns0 trust-ad\n';

test('hosts: Docker\'s head, extra hosts, links, then the container itself', () => {
  const text = hostsFile({
    extraHosts: [parseExtraHost('foo:10.1.2.3', '172.17.0.1'), parseExtraHost('gw=host-gateway', '172.17.0.1'), parseExtraHost('v6:[::1]', '172.17.0.1')],
    links: [{ ip: '172.17.0.3', names: ['db', 'abc123', 'web'] }],
    self: { ip: '172.17.0.2', hostname: 'h1', domainname: 'example.com' },
  });
  const lines = text.trimEnd().split('\n');
  assert.equal(lines[0], '127.0.0.1\tlocalhost');
  assert.equal(lines[5], 'ff02::2\tip6-allrouters');
  assert.deepEqual(lines.slice(6), ['10.1.2.3\tfoo', '172.17.0.1\tgw', '::1\tv6', '172.17.0.3\tdb abc123 web', '172.17.0.2\th1.example.com h1']);
  assert.throws(() => parseExtraHost('nocolon', '1.2.3.4'), /invalid extra host entry/);
});

test('resolv.conf on the default bridge: the host\'s resolvers minus loopback ones, its search and options', () => {
  assert.equal(resolvConf({ host: HOST, dns: [], dnsSearch: [], dnsOptions: [], embedded: false }), 'nameserver 10.1.1.1\nsearch corp.example lan\noptions edns0 trust-ad\n');
  // Only loopback resolvers on the host: Docker's public fallback.
  assert.equal(resolvConf({ host: 'nameserver 127.0.0.53\n', dns: [], dnsSearch: [], dnsOptions: [], embedded: false }), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  assert.equal(
    resolvConf({ host: HOST, dns: ['1.2.3.4'], dnsSearch: ['example.com'], dnsOptions: ['ndots:3'], embedded: false }),
    'nameserver 1.2.3.4\nsearch example.com\noptions ndots:3\n',
  );
  // --dns-search . means none.
  assert.equal(resolvConf({ host: HOST, dns: ['1.2.3.4'], dnsSearch: ['.'], dnsOptions: [], embedded: false }), 'nameserver 1.2.3.4\noptions edns0 trust-ad\n');
});

test('resolv.conf on a user network: the embedded server, ndots:0 unless the user set ndots', () => {
  assert.equal(resolvConf({ host: HOST, dns: [], dnsSearch: [], dnsOptions: [], embedded: true }), 'nameserver 127.0.0.11\nsearch corp.example lan\noptions ndots:0 edns0 trust-ad\n');
  assert.equal(resolvConf({ host: HOST, dns: [], dnsSearch: [], dnsOptions: ['ndots:2'], embedded: true }), 'nameserver 127.0.0.11\nsearch corp.example lan\noptions ndots:2\n');
});

test('links: "web:db", "/web:/me/db" and a bare name', () => {
  assert.deepEqual(parseLink('web:db'), ['web', 'db']);
  assert.deepEqual(parseLink('/web:/me/db'), ['web', 'db']);
  assert.deepEqual(parseLink('web'), ['web', 'web']);
});
