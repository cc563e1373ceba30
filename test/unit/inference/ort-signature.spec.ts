import { checkContract } from '../../../gateway/src/inference/model-contract';
import {
  ortShapeToDims,
  ortTypeToDatatype,
  signatureFromOrtMetadata,
  type OrtValueMetadata,
} from '../../../gateway/src/inference/ort-signature';

const contractLike = (): { inputs: OrtValueMetadata[]; outputs: OrtValueMetadata[] } => ({
  inputs: [
    { name: 'mel', isTensor: true, type: 'float32', shape: ['N', 1, 80, 16] },
    { name: 'face', isTensor: true, type: 'uint8', shape: ['N', 96, 96, 3] },
  ],
  outputs: [{ name: 'mouth', isTensor: true, type: 'uint8', shape: ['N', 96, 96, 3] }],
});

describe(signatureFromOrtMetadata.name, () => {
  it('should map ORT metadata with a symbolic batch dim to a signature that passes the contract', () => {
    const { inputs, outputs } = contractLike();
    const sig = signatureFromOrtMetadata(inputs, outputs);
    expect(sig.inputs[0]).toEqual({ name: 'mel', datatype: 'FP32', shape: [-1, 1, 80, 16] });
    expect(sig.outputs[0]).toEqual({ name: 'mouth', datatype: 'UINT8', shape: [-1, 96, 96, 3] });
    expect(checkContract(sig)).toEqual([]);
  });

  it('should treat an unnamed symbolic dim (empty string) as dynamic', () => {
    expect(ortShapeToDims(['', 1, 80, 16])).toEqual([-1, 1, 80, 16]);
  });

  it('should name a wrong input name in the contract problems', () => {
    const m = contractLike();
    m.inputs[0] = { ...m.inputs[0], name: 'audio' };
    const problems = checkContract(signatureFromOrtMetadata(m.inputs, m.outputs));
    expect(problems.join('\n')).toMatch(/missing input 'mel'/);
    expect(problems.join('\n')).toMatch(/unexpected input 'audio'/);
  });

  it('should report a float face input as FP32 and flag it', () => {
    const m = contractLike();
    m.inputs[1] = { ...m.inputs[1], type: 'float32' };
    expect(checkContract(signatureFromOrtMetadata(m.inputs, m.outputs))).toEqual([`input 'face' is FP32, expected UINT8`]);
  });

  it('should flag a static batch dim', () => {
    const m = contractLike();
    m.outputs[0] = { ...m.outputs[0], shape: [1, 96, 96, 3] };
    expect(checkContract(signatureFromOrtMetadata(m.inputs, m.outputs))[0]).toMatch(/output 'mouth' has shape \[1,96,96,3\]/);
  });

  it('should map non-tensor values so that they fail the contract instead of crashing', () => {
    const m = contractLike();
    m.outputs[0] = { name: 'mouth', isTensor: false };
    const sig = signatureFromOrtMetadata(m.inputs, m.outputs);
    expect(sig.outputs[0]).toEqual({ name: 'mouth', datatype: 'NON_TENSOR', shape: [] });
    expect(checkContract(sig).length).toBeGreaterThan(0);
  });

  it.each([
    ['float32', 'FP32'],
    ['float16', 'FP16'],
    ['uint8', 'UINT8'],
    ['int64', 'INT64'],
    ['bool', 'BOOL'],
    ['uint4', 'UINT4'],
  ])('should map ORT type %s to %s', (ort, dt) => {
    expect(ortTypeToDatatype(ort)).toBe(dt);
  });
});
