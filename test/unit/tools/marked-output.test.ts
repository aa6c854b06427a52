// The local Lambda runtime finds the end-of-invocation marks in a function's output pipes, however
// the pipe cuts the text into chunks, and passes every other character on unchanged.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MARK_END, MARK_START, MarkedOutput } from '../../../tools/lambda/runtime.ts';

const ID = '0f4c6a62-7a0b-4e43-9d38-2f0e6a1f5b11';
const mark = (id = ID) => `${MARK_START}${id}${MARK_END}`;

/** Feeds `text` in the given chunk sizes; returns what was forwarded and the ids seen marked. */
async function feed(text: string, sizes: readonly number[], ids: readonly string[]) {
  let forwarded = '';
  const output = new MarkedOutput((t) => {
    forwarded += t;
  });
  const seen: string[] = [];
  for (const id of ids) void output.marked(id).then(() => seen.push(id));
  let at = 0;
  for (const size of sizes) {
    output.push(text.slice(at, at + size));
    at += size;
  }
  output.push(text.slice(at));
  await Promise.resolve();
  return { forwarded: () => forwarded, seen, output };
}

describe('MarkedOutput', () => {
  it('takes a mark out of the text and reports it, cut at any point', async () => {
    const text = `{"line":1}\n${mark()}after\n`;
    for (let cut = 0; cut <= text.length; cut++) {
      const { forwarded, seen } = await feed(text, [cut], [ID]);
      expect(forwarded()).toBe('{"line":1}\nafter\n');
      expect(seen).toEqual([ID]);
    }
  });

  it('passes on any text that holds no mark unchanged, in any chunks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: fc.constantFrom('a', '\n', '\u001e', 'g', ':', 'é', '😀'), maxLength: 80 }),
        fc.array(fc.nat({ max: 20 }), { maxLength: 10 }),
        async (text, sizes) => {
          fc.pre(!text.includes(MARK_START));
          const { forwarded, output } = await feed(text, sizes, []);
          output.close();
          expect(forwarded()).toBe(text);
        },
      ),
    );
  });

  it('resolves a wait for a mark that already came, and every wait when the pipe ends', async () => {
    const { output } = await feed(mark('a'), [], []);
    await expect(output.marked('a')).resolves.toBeUndefined();
    const pending = output.marked('never');
    output.close();
    await expect(pending).resolves.toBeUndefined();
  });

  it('treats text that only starts like a mark as log text', async () => {
    const fake = `${MARK_START}${'x'.repeat(200)}\n`;
    const { forwarded, output } = await feed(fake, [3, 50], []);
    output.close();
    expect(forwarded()).toBe(fake);
  });
});
