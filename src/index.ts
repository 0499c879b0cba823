export * from './budget';
export * from './load-balancer';
export * from './alibaba-alb';
export * from './tencent-clb';
export * from './health-check';
export * from './prestop';
export * from './stop-signal';
export * from './graceful-web-service';
