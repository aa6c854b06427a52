import { runJwtSection } from './jwt.ts';
const r = await runJwtSection({ samples: 15, warmupMs: 100, sampleMs: 5 }, console.log);
for (const a of r) { console.log(a.alg); for (const m of [a.floor, a.oursFirstSeen, a.oursRepeated, ...a.peers, a.peerRepeated]) console.log('  ', m.name, 'medianNs' in m ? (m.medianNs/1000).toFixed(2)+'us' : m.unsupported); }
