export { type Connectivity, createConnectivity } from './connectivity.js';
export type {
  ConnectivityChange,
  ConnectivityEvents,
  ConnectivityOptions,
  ConnectivityStatus,
} from './connectivity-options.js';
