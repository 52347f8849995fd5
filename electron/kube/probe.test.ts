// The pure parts of a probe.
import { describe, expect, it } from 'vitest';
import { nodeInfo, parseQuantity } from './probe.ts';

describe('quantities', () => {
  it('parses Kubernetes resource quantities', () => {
    expect(parseQuantity('4')).toBe(4);
    expect(parseQuantity('500m')).toBe(0.5);
    expect(parseQuantity('8Gi')).toBe(8 * 2 ** 30);
    expect(parseQuantity('16318536Ki')).toBe(16318536 * 1024);
    expect(parseQuantity('2G')).toBe(2e9);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity('lots')).toBeUndefined();
    expect(parseQuantity(undefined)).toBeUndefined();
  });
});

describe('GPU facts of a node', () => {
  it('carries the nvidia.com/gpu capacity (0 without) and only the GPU type labels SkyPilot reads', () => {
    const gpuNode = nodeInfo({
      metadata: { name: 'gpu-1', labels: { 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3', 'kubernetes.io/os': 'linux' } },
      status: { capacity: { cpu: '8', 'nvidia.com/gpu': '8' }, conditions: [{ type: 'Ready', status: 'True' }] },
    });
    expect(gpuNode).toMatchObject({ gpus: 8, labels: { 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3' } });
    expect(gpuNode.labels).not.toHaveProperty('kubernetes.io/os');
    const plain = nodeInfo({ metadata: { name: 'n' }, status: { capacity: { cpu: '2' } } });
    expect(plain.gpus).toBe(0);
    expect(plain.labels).toBeUndefined();
  });
});
