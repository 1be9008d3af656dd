export {
  type ReconcileAction,
  type ReconcileCounts,
  type ReconcileKind,
  type ReconcileOptions,
  type ReconcileProgress,
  type ReconcileReport,
  reconcile,
} from './reconcile.js';
export {
  type ReconciliationSchedule,
  type ScheduleReconciliationOptions,
  scheduleReconciliation,
} from './schedule-reconciliation.js';
