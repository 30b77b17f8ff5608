# Not part of the build: run where PyTorch and a CUDA GPU are, next to
# `clcnn bench` on the same GPU.
# cuDNN reference timings for the clcnn bench layers (float32, TF32 off).
import torch, json, sys
torch.backends.cudnn.allow_tf32 = False
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.benchmark = True
layers = [("walkthrough",10,4,4,3,2,8,2,2),("fmnist1",64,28,28,1,5,32,1,2),("fmnist2",64,14,14,32,5,64,1,2),
          ("res56",8,56,56,64,3,64,1,1),("res28",8,28,28,128,3,128,1,1),("res14",8,14,14,256,3,256,1,1),
          ("res56s2",8,56,56,64,3,128,2,1),("vgg1",2,224,224,3,3,64,1,1)]
dev = torch.device("cuda")
def timeit(fn, reps=50):
    for _ in range(5): fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        s = torch.cuda.Event(enable_timing=True); e = torch.cuda.Event(enable_timing=True)
        s.record(); fn(); e.record(); torch.cuda.synchronize(); ts.append(s.elapsed_time(e))
    ts.sort(); return ts[len(ts)//2]
print(torch.cuda.get_device_name(), torch.__version__, "cudnn", torch.backends.cudnn.version())
for fmt in ("nchw", "nhwc"):
  for (name,m,H,W,C,f,K,s,p) in layers:
    x = torch.randn(m,C,H,W,device=dev); w = torch.randn(K,C,f,f,device=dev); b = torch.randn(K,device=dev)
    if fmt == "nhwc": x = x.to(memory_format=torch.channels_last); w = w.to(memory_format=torch.channels_last)
    x.requires_grad_(True); w.requires_grad_(True); b.requires_grad_(True)
    fwd = lambda: torch.nn.functional.conv2d(x, w, b, stride=s, padding=p)
    z = fwd(); g = torch.randn_like(z)
    def bwd():
        return torch.autograd.grad(z, (x, w, b), g, retain_graph=True)
    tf = timeit(fwd); tb = timeit(bwd)
    nH = (H+2*p-f)//s+1; nW=(W+2*p-f)//s+1; fl = 2.0*m*nH*nW*K*f*f*C
    print(f"{fmt} {name:12s} fwd {tf:8.4f} ms {fl/tf*1e-6:9.1f} GFLOP/s   bwd {tb:8.4f} ms {2*fl/tb*1e-6:9.1f} GFLOP/s")
