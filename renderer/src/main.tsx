// Entry point: picks the transport (Electron preload or same-origin browser),
// starts following the server, and renders the dashboard.

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.tsx';
import { serverApi } from './server-api.ts';
import { Controller } from './store/controller.ts';
import { DashboardContext, createDashboardStore } from './store/store.ts';
import { Api, defaultTransport, findBridge } from './transport.ts';
import './styles.css';

const store = createDashboardStore();
const controller = new Controller(store, serverApi(new Api(defaultTransport())), findBridge());
controller.start();

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <DashboardContext.Provider value={{ store, controller }}>
        <App />
      </DashboardContext.Provider>
    </StrictMode>,
  );
}
