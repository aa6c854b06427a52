import { build } from 'esbuild';
const r = await build({ entryPoints: [process.argv[2]], bundle: true, platform: 'node', format: 'esm', target: 'es2023', minify: true, mainFields: ['module','main'], write: false, metafile: true, logLevel: 'silent' });
const out = Object.values(r.metafile.outputs)[0];
console.log(Object.entries(out.inputs).sort((a,b)=>b[1].bytesInOutput-a[1].bytesInOutput).filter(([f])=>f.includes(process.argv[3]??'')).map(([k,v])=>`${String(v.bytesInOutput).padStart(7)} ${k}`).join('\n'));
