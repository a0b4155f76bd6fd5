import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A gateway as its own process (`ratelab gateway`), so tests can SIGKILL or SIGTERM it and
 * read everything it logged.
 */
export class GatewayProcess {
  output = '';
  private constructor(
    private readonly child: ChildProcess,
    readonly baseURL: string,
    readonly exited: Promise<number | null>,
  ) {}

  static async start(args: string[], env: Record<string, string>): Promise<GatewayProcess> {
    const child = spawn(process.execPath, ['bin/ratelab.js', 'gateway', '--port', '0', ...args], {
      // Child gateways log at info (the suite runs at warn), so their output shows every line they write.
      env: { ...process.env, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const baseURL = await new Promise<string>((resolve, reject) => {
      const onData = (d: Buffer) => {
        output += d.toString();
        const m = /ratelab gateway {2}(http:\/\/\S+\/v1)/.exec(output);
        if (m) resolve(m[1]!);
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      void exited.then((code) => reject(new Error(`gateway exited ${code} before listening: ${output}`)));
    });
    const gp = new GatewayProcess(child, baseURL, exited);
    gp.output = output;
    child.stdout!.on('data', (d: Buffer) => (gp.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (gp.output += d.toString()));
    return gp;
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}
