import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../tools/build.ts';
import {
  cliProgram,
  commandLineExit,
  HelpRequested,
  integerValue,
  overrideWords,
  parseCommandLine,
  portValue,
  UsageError,
} from '../../../tools/cli/program.ts';
import { parseStartArgs, startProgram } from '../../../tools/gateway/cli-args.ts';
import { generateProgram } from '../../../tools/generate.ts';
import { invokeProgram, parseInvokeArgs } from '../../../tools/invoke.ts';
import { keysProgram } from '../../../tools/keys.ts';
import { parseTokenArgs, tokenProgram } from '../../../tools/token.ts';
import { usersProgram } from '../../../tools/users.ts';

const PROGRAMS = [
  ['npm run build --', buildProgram],
  ['npm run generate --', generateProgram],
  ['npm run invoke --', invokeProgram],
  ['npm start --', startProgram],
  ['npm run token --', tokenProgram],
  ['npm run keys --', keysProgram],
  ['npm run users --', usersProgram],
] as const;

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('every CLI program', () => {
  it.each(PROGRAMS)('%s --help gives the usage, starting with how to run it', (invocation, program) => {
    // Act
    const err = thrown(() => parseCommandLine(program(), ['--help']));

    // Assert
    expect(err).toBeInstanceOf(HelpRequested);
    expect((err as HelpRequested).text.startsWith(`Usage: ${invocation} `)).toBe(true);
    expect((err as HelpRequested).text).toContain('-h, --help');
  });

  it.each(PROGRAMS)('%s -h is --help', (_invocation, program) => {
    expect(thrown(() => parseCommandLine(program(), ['-h']))).toBeInstanceOf(HelpRequested);
  });

  it.each(PROGRAMS)('%s refuses an unknown option with one line', (_invocation, program) => {
    // Act
    const err = thrown(() => parseCommandLine(program(), ['list', '--no-such-flag']));

    // Assert
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toBe("unknown option '--no-such-flag'");
  });
});

describe('parseCommandLine', () => {
  it('suggests the nearest option on the same line', () => {
    const err = thrown(() => parseTokenArgs(['--scop', 'x'])) as UsageError;
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe("unknown option '--scop' (Did you mean --scope?)");
  });

  it.each([
    [['--ttl', '-60'], -60],
    [['--ttl=-60'], -60],
    [['--ttl', '+5'], 5],
  ])('reads a signed number as an option value: %j', (argv, ttl) => {
    expect(parseTokenArgs(argv).ttl).toBe(ttl);
  });

  it.each([
    [['--ttl'], "option '--ttl <seconds>' argument missing"],
    [['--ttl', '1.5'], '--ttl must be a whole number, not "1.5"'],
    [['--ttl', '9007199254740993'], '--ttl must be a whole number, not "9007199254740993"'],
    [['--issuer-port', '0'], '--issuer-port must be a port number, not "0"'],
    [['surplus'], 'too many arguments. Expected 0 arguments but got 1'],
  ])('refuses %j with a message naming the flag', (argv, message) => {
    const err = thrown(() => parseTokenArgs(argv));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(message);
  });

  it('treats words after -- as operands, even when they look like options', () => {
    // Act
    const args = parseInvokeArgs(['-e', 'event.json', '--', '--not-a-flag']);

    // Assert
    expect(args.logicalId).toBe('--not-a-flag');
  });

  it('reads -e - (the event from stdin) as a value', () => {
    expect(parseInvokeArgs(['JwtAuthorizerFunction', '-e', '-']).event).toBe('-');
  });

  it('keeps every --parameter-overrides word, quoted groups split as SAM does', () => {
    // Act
    const args = parseInvokeArgs([
      'Fn',
      '--parameter-overrides',
      'A=1 B=2',
      'ParameterKey=C,ParameterValue=3',
      '-e',
      'x.json',
    ]);

    // Assert
    expect(args.overrides).toEqual(['A=1', 'B=2', 'ParameterKey=C,ParameterValue=3']);
  });

  it('accepts --flag=value for every option with a value', () => {
    expect(parseStartArgs(['--port=4000', '--env-vars=env.json', '--parameter-overrides=A=1'])).toMatchObject(
      {
        port: 4000,
        envVars: 'env.json',
        parameterOverrides: { A: '1' },
      },
    );
  });

  it.each([
    [['-p', '-1'], '--port must be a port number, not "-1"'],
    [['--max-body-bytes', '-1'], '--max-body-bytes must be a whole number of at least 0, not "-1"'],
    [['--upstream', 'ftp://x'], '--upstream must be an http(s) URL, not "ftp://x"'],
    [['--in-memory=yes'], '--in-memory takes no value'],
  ])('npm start refuses %j', (argv, message) => {
    const err = thrown(() => parseStartArgs(argv));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(message);
  });
});

describe('value readers', () => {
  it.each([
    ['0', { min: 0 }, 0],
    ['-3600', {}, -3600],
    [' 42 ', { max: 42 }, 42],
  ])('integerValue reads %j within %j', (value, bounds, expected) => {
    expect(integerValue('--n', bounds)(value)).toBe(expected);
  });

  it.each([
    ['', {}],
    ['1e3', {}],
    ['0x10', {}],
    ['5', { max: 4 }],
    ['-1', { min: 0 }],
  ])('integerValue refuses %j within %j', (value, bounds) => {
    expect(() => integerValue('--n', bounds)(value)).toThrow(UsageError);
  });

  it('portValue takes 0 only when asked to', () => {
    expect(portValue('--p', { allowZero: true })('0')).toBe(0);
    expect(() => portValue('--p')('0')).toThrow('--p must be a port number, not "0"');
    expect(() => portValue('--p')('65536')).toThrow(UsageError);
  });

  it('overrideWords drops empty words', () => {
    expect(overrideWords(['  A=1   B=2 ', ''])).toEqual(['A=1', 'B=2']);
    expect(overrideWords(undefined)).toEqual([]);
  });
});

describe('commandLineExit', () => {
  const name = { tool: 'demo', invocation: 'npm run demo --' };

  it('prints help on stdout and gives 0', () => {
    // Arrange
    const out: string[] = [];
    const err: string[] = [];
    const help = thrown(() => parseCommandLine(cliProgram(name, 'A demo.'), ['--help']));

    // Act
    const code = commandLineExit(help, name, { out: (t) => out.push(t), err: (t) => err.push(t) });

    // Assert
    expect(code).toBe(0);
    expect(out.join('\n')).toContain('Usage: npm run demo -- [options]');
    expect(err).toEqual([]);
  });

  it('prints one line with the --help pointer on stderr and gives 2', () => {
    // Arrange
    const out: string[] = [];
    const err: string[] = [];

    // Act
    const code = commandLineExit(new UsageError('bad thing'), name, {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
    });

    // Assert
    expect(code).toBe(2);
    expect(err).toEqual(['demo: bad thing; see npm run demo -- --help']);
    expect(out).toEqual([]);
  });

  it('leaves other errors to the caller', () => {
    expect(commandLineExit(new Error('boom'), name, { out: () => {}, err: () => {} })).toBeUndefined();
  });
});
