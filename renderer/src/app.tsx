// The dashboard's frame: header and navigation, the connection notice, and
// the page the hash names.

import { Suspense, lazy, useEffect, useRef } from 'react';
import { Empty, Loading } from './components/common.tsx';
import { ConnectionNotice, Header, OverallBanner } from './components/shell.tsx';
import { DiagnosticsPage } from './pages/Diagnostics.tsx';
import { ClusterPage, ClustersPage } from './pages/Clusters.tsx';
import { HistoryPage } from './pages/History.tsx';
import { Overview } from './pages/Overview.tsx';
import { SettingsPage } from './pages/Settings.tsx';
import { TaskPage, TasksPage } from './pages/Tasks.tsx';
import { useRoute, type Route } from './route.ts';

// The YAML parser and editor load with the Launch page, not before: the overview paints sooner.
const LaunchPage = lazy(() => import('./pages/Launch.tsx').then((m) => ({ default: m.LaunchPage })));
// The create form brings the request schemas (zod) and kind's config reader: loaded when opened.
const CreateClusterPage = lazy(() => import('./pages/ClustersCreate.tsx').then((m) => ({ default: m.CreateClusterPage })));

const TITLES: Record<Route['page'], string> = {
  overview: 'Overview',
  tasks: 'Tasks',
  task: 'Task',
  launch: 'Launch',
  clusters: 'Clusters',
  cluster: 'Cluster',
  'new-cluster': 'Create cluster',
  diagnostics: 'Diagnostics',
  history: 'History',
  settings: 'Settings',
  'not-found': 'Not found',
};

export function App() {
  const route = useRoute();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  useEffect(() => {
    document.title = `${TITLES[route.page]} · Kindtray`;
    // After navigating, move focus to the page (not on first load), so keyboard and screen-reader users start there.
    if (!first.current) main.current?.focus({ preventScroll: false });
    first.current = false;
  }, [route.page, route.page === 'task' ? route.id : route.page === 'cluster' ? route.name : '']);

  return (
    <>
      <a className="skip" href="#main" onClick={(e) => { e.preventDefault(); main.current?.focus(); }}>
        Skip to content
      </a>
      <Header route={route} />
      <main id="main" ref={main} tabIndex={-1} data-page={route.page}>
        <ConnectionNotice />
        <Page route={route} />
      </main>
    </>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'overview':
      return <Overview />;
    case 'tasks':
      return (
        <>
          <OverallBanner compact />
          <TasksPage />
        </>
      );
    case 'task':
      return <TaskPage id={route.id} />;
    case 'launch':
      return (
        <Suspense fallback={<Loading what="the editor" />}>
          <LaunchPage />
        </Suspense>
      );
    case 'clusters':
      return <ClustersPage />;
    case 'cluster':
      return <ClusterPage key={route.name} name={route.name} action={route.action} />;
    case 'new-cluster':
      return (
        <Suspense fallback={<Loading what="the form" />}>
          <CreateClusterPage />
        </Suspense>
      );
    case 'diagnostics':
      return <DiagnosticsPage />;
    case 'history':
      return <HistoryPage />;
    case 'settings':
      return <SettingsPage />;
    case 'not-found':
      return (
        <Empty title="No such page" testId="not-found">
          Nothing lives at <code>{route.path}</code>. Go to the <a href="#/">overview</a>.
        </Empty>
      );
  }
}
