import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runningGateway, writeGatewayState } from '../../../tools/local/gateway-state.ts';

const file = () => join(mkdtempSync(join(tmpdir(), 'gatehouse-state-')), 'gateway.json');
const state = (pid: number) => ({
  pid,
  startedAt: '2026-11-22T00:00:00.000Z',
  apis: { OrdersApi: 'http://127.0.0.1:3000' },
  database: { endpoint: 'http://127.0.0.1:4567', inMemory: true },
});

describe('gateway state file', () => {
  it('describes the running gateway until it stops', () => {
    // Arrange
    const path = file();

    // Act
    const remove = writeGatewayState(state(process.pid), path);
    const whileRunning = runningGateway(path);
    remove();

    // Assert
    expect(whileRunning).toEqual(state(process.pid));
    expect(existsSync(path)).toBe(false);
    expect(runningGateway(path)).toBeUndefined();
  });

  it('ignores a file left by a process that is gone', () => {
    // Arrange: the pid of a process that has exited.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid as number;
    const path = file();
    writeGatewayState(state(gone), path);

    // Act / Assert
    expect(runningGateway(path)).toBeUndefined();
  });

  it("does not remove another gateway's file", () => {
    // Arrange: this process wrote first, then another live process (here: our parent) took over.
    const path = file();
    const remove = writeGatewayState(state(process.pid), path);
    writeGatewayState(state(process.ppid), path);

    // Act
    remove();

    // Assert
    expect(runningGateway(path)?.pid).toBe(process.ppid);
  });
});
