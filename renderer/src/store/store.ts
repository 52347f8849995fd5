// The zustand store around the pure reducer, and the React hooks pages use to
// read it. One store per page load; tests make their own with createDashboardStore.

import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { initialState, reduce, type Action, type DashboardState } from './state.ts';
import type { Controller } from './controller.ts';

export type DashboardStoreState = DashboardState & { dispatch: (a: Action) => void };
export type DashboardStore = StoreApi<DashboardStoreState>;

export const createDashboardStore = (): DashboardStore =>
  createStore<DashboardStoreState>()((set) => ({ ...initialState(), dispatch: (a) => set((s) => reduce(s, a)) }));

export const DashboardContext = createContext<{ store: DashboardStore; controller: Controller } | undefined>(undefined);

function useDashboardContext() {
  const ctx = useContext(DashboardContext);
  if (!ctx) throw new Error('the dashboard is rendered outside its DashboardContext');
  return ctx;
}

/** Reads from the store; re-renders when the selected value changes (by Object.is). */
export function useDashboard<T>(select: (s: DashboardStoreState) => T): T {
  return useStore(useDashboardContext().store, select);
}

export const useController = (): Controller => useDashboardContext().controller;
