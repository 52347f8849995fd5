// The server's routes as typed calls. Every shape is the server's own, from
// shared/ (api.ts, fixes.ts, contracts/): a change there fails to compile here.

import { LAUNCH_REQUEST_TYPE } from '../../shared/api.ts';
import type { HealthResponse, LaunchRequest, TaskRecord, ValidateResponse, ApiError } from '../../shared/api.ts';
import { routePath } from '../../shared/contracts/cluster-routes.ts';
import type { ClustersResponse, ClusterError, CreateClusterInput, DeletePlan, OperationStarted, PreflightAnswer } from '../../shared/contracts/clusters.ts';
import type { HistoryResponse, StateChange } from '../../shared/contracts/history.ts';
import type { Settings } from '../../shared/contracts/settings.ts';
import type { FixResult } from '../../shared/fixes.ts';
import type { HealthSnapshot } from '../../shared/snapshot.ts';
import type { ValidationIssue } from '../../shared/task/index.ts';
import type { Api, ApiResult } from './transport.ts';

export type StatusResponse = HealthSnapshot & { ageMs?: number };

export type { HistoryResponse, Settings, StateChange };

export interface SettingsSaved {
  settings: Settings;
  restartNeeded: boolean;
}

export type LaunchRejected = ApiError & { warnings?: ValidationIssue[] };

const YAML = { 'content-type': 'application/yaml; charset=utf-8' };
const JSON_BODY = { 'content-type': 'application/json' };
const enc = encodeURIComponent;

export const serverApi = (api: Api) => ({
  health: () => api.json<HealthResponse>('/api/health'),
  status: (signal?: AbortSignal) => api.json<StatusResponse>('/api/status', signal ? { signal } : {}),
  // 409 when the fix ran and failed, 404 when the id names no fix: both a FixResult.
  runFix: (fixId: string) => api.json<FixResult>(`/control/fixes/${enc(fixId)}`, { method: 'POST', okStatuses: [409, 404] }),
  restartServer: () => api.json<HealthResponse>('/control/server/restart', { method: 'POST' }),
  validate: (yaml: string, signal: AbortSignal) =>
    api.json<ValidateResponse>('/api/validate', { method: 'POST', body: yaml, headers: YAML, signal, okStatuses: [422] }),
  // With values (envs and secrets the task leaves null), a LaunchRequest; else the text alone.
  launch: (yaml: string, whenReady: boolean, values?: Pick<LaunchRequest, 'envs' | 'secrets'>): Promise<ApiResult<{ task: TaskRecord; warnings?: ValidationIssue[] }>> =>
    api.json(`/api/tasks${whenReady ? '?when_ready=1' : ''}`, {
      method: 'POST',
      ...(values ? { body: JSON.stringify({ task: yaml, ...values }), headers: { 'content-type': LAUNCH_REQUEST_TYPE } } : { body: yaml, headers: YAML }),
    }),
  tasks: () => api.json<{ tasks: TaskRecord[] }>('/api/tasks'),
  task: (id: string) => api.json<{ task: TaskRecord }>(`/api/tasks/${enc(id)}`),
  cancel: (id: string) => api.json<{ task: TaskRecord }>(`/api/tasks/${enc(id)}`, { method: 'DELETE' }),
  logs: (id: string, follow: boolean, onText: (t: string) => void, signal: AbortSignal) =>
    api.stream(`/api/tasks/${enc(id)}/logs${follow ? '?follow=1' : ''}`, onText, signal),
  // A task's logs as server-sent events (shared/contracts/task-logs.ts), from the id of the last one read.
  logEvents: (id: string, query: string, onText: (t: string) => void, signal: AbortSignal, lastEventId?: string) =>
    api.stream(`/api/tasks/${enc(id)}/logs?${query}`, onText, signal, { accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) }),
  events: (onText: (t: string) => void, signal: AbortSignal) => api.stream('/api/events', onText, signal, { accept: 'text/event-stream' }),
  history: () => api.json<HistoryResponse>('/api/history'),
  settings: () => api.json<Settings>('/api/settings'),
  saveSettings: (s: Settings) => api.json<SettingsSaved>('/api/settings', { method: 'PUT', body: JSON.stringify(s), headers: JSON_BODY }),
  // Clusters (shared/contracts/clusters.ts): operations answer 202 with their record, then stream on /api/events.
  clusters: (signal?: AbortSignal) => api.json<ClustersResponse>(routePath('list'), signal ? { signal } : {}),
  checkCluster: (request: CreateClusterInput, signal: AbortSignal) =>
    api.json<PreflightAnswer>(routePath('check'), { method: 'POST', body: JSON.stringify(request), headers: JSON_BODY, signal, okStatuses: [422] }),
  createCluster: (request: CreateClusterInput) =>
    api.json<OperationStarted & ClusterError>(routePath('create'), { method: 'POST', body: JSON.stringify(request), headers: JSON_BODY, okStatuses: [409, 422] }),
  deletePlan: (name: string) => api.json<DeletePlan>(routePath('deletePlan', { name })),
  deleteCluster: (name: string) => api.json<OperationStarted & ClusterError>(routePath('delete', { name }), { method: 'DELETE', okStatuses: [409] }),
  startCluster: (name: string) => api.json<OperationStarted & ClusterError>(routePath('start', { name }), { method: 'POST', okStatuses: [409] }),
  stopCluster: (name: string) => api.json<OperationStarted & ClusterError>(routePath('stop', { name }), { method: 'POST', okStatuses: [409] }),
  loadImage: (name: string, image: string) =>
    api.json<OperationStarted & ClusterError>(routePath('loadImage', { name }), { method: 'POST', body: JSON.stringify({ image }), headers: JSON_BODY, okStatuses: [409, 422] }),
  cancelOperation: (id: string) => api.json<OperationStarted>(routePath('cancel', { id }), { method: 'POST' }),
});

export type ServerApi = ReturnType<typeof serverApi>;
