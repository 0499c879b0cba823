/**
 * The cloud load balancer's control plane, driving HAProxy (its data plane): a pod starts
 * receiving traffic one registration delay after it turned Ready (controller reconcile + health
 * checks), and stops receiving new requests one deregistration lag after its deletion.
 */
import { Haproxy } from './haproxy';

export class LbDriver {
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;

  /** `toRealMs` converts model seconds to real milliseconds; `onError` ends the run. */
  constructor(
    private readonly haproxy: Haproxy,
    private readonly toRealMs: (modelSeconds: number) => number,
    private readonly onError: (e: Error) => void,
  ) {}

  /** Register `name` after `delaySeconds`; resolves when HAProxy routes to it (or never, once closed). */
  public registerAfter(name: string, address: string, port: number, delaySeconds: number): Promise<void> {
    return new Promise((resolve) => {
      this.timers.push(setTimeout(() => {
        if (this.closed) return;
        this.haproxy.register(name, address, port).then(resolve, (e: Error) => { if (!this.closed) this.onError(e); });
      }, this.toRealMs(delaySeconds)));
    });
  }

  /** Take `name` out of rotation after `lagSeconds`; resolves once HAProxy was told. */
  public deregisterAfter(name: string, lagSeconds: number): Promise<void> {
    return new Promise((resolve) => {
      this.timers.push(setTimeout(() => {
        if (this.closed) return resolve();
        this.haproxy.deregister(name).then(resolve, (e: Error) => {
          if (!this.closed) this.onError(e);
          resolve();
        });
      }, this.toRealMs(lagSeconds)));
    });
  }

  /** Stop every pending action. */
  public close(): void {
    this.closed = true;
    this.timers.forEach(clearTimeout);
  }
}
