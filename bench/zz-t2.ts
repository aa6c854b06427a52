import { runValidationSection } from './validation.ts';
const r = await runValidationSection({ samples: 15, warmupMs: 100, sampleMs: 5 });
console.log(r.bodyBytes, r.oursVia);
for (const m of [r.floor, r.ours, ...r.peers]) console.log('  ', m.name, (m.medianNs/1000).toFixed(2)+'us');
