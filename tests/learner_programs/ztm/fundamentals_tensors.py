# "Zero to Mastery: Learn PyTorch for Deep Learning", notebook 00 (written for this project): making tensors
# (arange with a step, zeros_like, ones, rand after a manual_seed), their dtypes and what mixing them does, the
# shape rules of matrix multiplication and .T, aggregation that needs floats, the reshaping family, indexing,
# NumPy in and out, and reproducible draws with torch.manual_seed / torch.random.manual_seed.
import numpy as np
import torch


def error_name(action):
    """The exception's type a learner sees when a cell fails, or None when it runs."""
    try:
        action()
    except Exception as error:  # noqa: BLE001 (the notebook shows whichever error comes)
        return type(error).__name__
    return None


def dtype_name(dtype):
    """A dtype's name as the notebook prints it, less PyTorch's ``torch.`` prefix (glassgrad's dtypes are NumPy's)."""
    return str(dtype).replace("torch.", "")


scalar = torch.tensor(7)
vector = torch.tensor([7, 7])
MATRIX = torch.tensor([[7, 8], [9, 10]])
TENSOR = torch.tensor([[[1, 2, 3], [3, 6, 9], [2, 4, 5]]])
basics = [scalar.ndim, scalar.item(), vector.ndim, list(vector.shape), MATRIX.ndim, list(TENSOR.shape),
          TENSOR.ndim, MATRIX[1].tolist(), TENSOR[0].tolist()]

zeros = torch.zeros(size=(3, 4))
ones = torch.ones(size=(3, 4))
zero_to_ten = torch.arange(start=0, end=10, step=1)
odd_steps = torch.arange(1, 11, 3)
float_steps = torch.arange(0.0, 1.0, 0.25)
ten_zeros = torch.zeros_like(input=zero_to_ten)
range_facts = [dtype_name(zero_to_ten.dtype), dtype_name(float_steps.dtype), dtype_name(zeros.dtype),
               dtype_name(ones.dtype), dtype_name(ten_zeros.dtype), zero_to_ten.tolist(), odd_steps.tolist(),
               float_steps.tolist()]

float_32_tensor = torch.tensor([3.0, 6.0, 9.0], dtype=None, device=None, requires_grad=False)
float_16_tensor = float_32_tensor.type(torch.float16)
int_32_tensor = torch.tensor([3, 6, 9], dtype=torch.int32)
dtype_facts = [dtype_name(float_32_tensor.dtype), dtype_name(float_16_tensor.dtype),
               dtype_name((float_16_tensor * float_32_tensor).dtype),
               dtype_name((float_32_tensor * int_32_tensor).dtype),
               dtype_name((int_32_tensor * 2).dtype), dtype_name((int_32_tensor * 2.5).dtype),
               str(float_32_tensor.device), (float_16_tensor * float_32_tensor).tolist(),
               dtype_name(torch.tensor([1, 2], dtype=torch.long).dtype),
               dtype_name(torch.tensor(3.0).to(torch.int8).dtype)]

some_tensor = torch.rand(3, 4)
attributes = [list(some_tensor.shape), list(some_tensor.size()), dtype_name(some_tensor.dtype),
              str(some_tensor.device)]

tensor = torch.tensor([1, 2, 3])
arithmetic = [(tensor + 10).tolist(), (tensor * 10).tolist(), (tensor - 10).tolist(),
              torch.multiply(tensor, 10).tolist(), torch.add(tensor, 10).tolist(), torch.sub(tensor, 10).tolist(),
              (tensor * tensor).tolist(), torch.matmul(tensor, tensor).item(), (tensor @ tensor).item()]

tensor_A = torch.tensor([[1, 2], [3, 4], [5, 6]], dtype=torch.float32)
tensor_B = torch.tensor([[7, 10], [8, 11], [9, 12]], dtype=torch.float32)
shape_errors = [error_name(lambda: torch.matmul(tensor_A, tensor_B)), error_name(lambda: tensor_A @ tensor_B),
                error_name(lambda: torch.mm(tensor_A, tensor_B)),
                error_name(lambda: torch.rand(3, 2) @ torch.rand(3, 2))]
matmuls = [torch.matmul(tensor_A, tensor_B.T), torch.mm(tensor_A.T, tensor_B), list(tensor_B.T.shape),
           list(torch.matmul(torch.rand(10, 3), torch.rand(3, 10)).shape)]

torch.manual_seed(42)
linear = torch.nn.Linear(in_features=2, out_features=6)
with torch.no_grad():  # the same weights in both libraries, from NumPy
    linear.weight.copy_(torch.from_numpy(np.linspace(-1, 1, 12).reshape(6, 2)))
    linear.bias.copy_(torch.from_numpy(np.linspace(0.5, -0.5, 6)))
linear_output = linear(tensor_A)

x = torch.arange(0, 100, 10)
aggregation = [x.min().item(), x.max().item(), torch.max(x).item(), x.sum().item(), x.argmin().item(),
               x.argmax().item(), x.type(torch.float32).mean().item(), torch.mean(x.type(torch.float32)).item(),
               error_name(lambda: x.mean()), error_name(lambda: torch.mean(x)), dtype_name(x.sum().dtype),
               dtype_name(x.argmax().dtype)]

x = torch.arange(1.0, 8.0)
x_reshaped = x.reshape(1, 7)
z = x.view(1, 7)
z[:, 0] = 5  # a view shares its numbers with x
x_stacked = torch.stack([x, x, x, x], dim=0)
x_squeezed = x_reshaped.squeeze()
x_unsqueezed = x_squeezed.unsqueeze(dim=0)
x_original = torch.rand(size=(224, 224, 3))
x_permuted = x_original.permute(2, 0, 1)
x_original[0, 0, 0] = 728218
reshaping = [x.tolist(), list(x_reshaped.shape), x_reshaped.tolist(), list(x_stacked.shape),
             torch.stack([x, x], dim=1).tolist(), torch.vstack([x, x]).tolist(), torch.hstack([x, x]).tolist(),
             list(x_squeezed.shape), list(x_unsqueezed.shape), list(x_permuted.shape),
             x_permuted[0, 0, 0].item(), error_name(lambda: x.reshape(1, 8)), error_name(lambda: x.view(2, 4)),
             list(torch.zeros(2, 1, 3, 1).squeeze().shape), list(torch.zeros(2, 1, 3, 1).squeeze(1).shape),
             list(x_permuted.reshape(3, -1).shape), x_permuted.is_contiguous()]

x = torch.arange(1, 10).reshape(1, 3, 3)
indexing = [x[0].tolist(), x[0][0].tolist(), x[0][0][0].item(), x[0][2][2].item(), x[:, 0].tolist(),
            x[:, :, 1].tolist(), x[:, 1, 1].tolist(), x[0, 0, :].tolist(), x[:, :, 2].tolist(),
            x[0, 2, 2].item(), x[0, :, 2].tolist()]

array = np.arange(1.0, 8.0)
from_array = torch.from_numpy(array)
array = array + 1  # a new array: the tensor keeps the old numbers
float32_tensor = torch.from_numpy(np.arange(1.0, 8.0)).type(torch.float32)
back = torch.ones(7)
numpy_tensor = back.numpy()
back = back + 1
numpy_interop = [dtype_name(from_array.dtype), from_array.tolist(), dtype_name(float32_tensor.dtype),
                 numpy_tensor.dtype.name, numpy_tensor.tolist(), back.tolist(),
                 dtype_name(torch.from_numpy(np.arange(3)).dtype),
                 dtype_name(torch.tensor(np.array([1.5])).dtype), dtype_name(torch.tensor([1.5]).dtype)]

random_tensor_A = torch.rand(3, 4)
random_tensor_B = torch.rand(3, 4)
RANDOM_SEED = 42
torch.manual_seed(seed=RANDOM_SEED)
random_tensor_C = torch.rand(3, 4)
torch.random.manual_seed(seed=RANDOM_SEED)
random_tensor_D = torch.rand(3, 4)
reproducibility = [bool(torch.equal(random_tensor_A, random_tensor_B)), (random_tensor_C == random_tensor_D).tolist(),
                   bool(torch.all(random_tensor_C == random_tensor_D)), dtype_name(random_tensor_C.dtype),
                   bool(((random_tensor_C >= 0) & (random_tensor_C < 1)).all())]

# the three errors the course names as the most common: wrong dtype, wrong shape, wrong device (here: dtype, shape)
model = torch.nn.Linear(2, 1)
common_errors = [error_name(lambda: float_16_tensor @ float_32_tensor),
                 error_name(lambda: torch.tensor([1, 2]) @ torch.tensor([1.0, 2.0])),
                 error_name(lambda: model(torch.tensor([[1.0, 2.0]], dtype=torch.float64))),
                 error_name(lambda: model(torch.tensor([[1, 2]]))),
                 error_name(lambda: model(torch.rand(3, 5))),
                 error_name(lambda: torch.nn.BCEWithLogitsLoss()(torch.zeros(3), torch.tensor([0, 1, 1]))),
                 error_name(lambda: torch.nn.CrossEntropyLoss()(torch.zeros(3, 2), torch.tensor([0.0, 1.0, 1.0]))),
                 error_name(lambda: torch.nn.CrossEntropyLoss()(torch.zeros(3, 2), torch.tensor([0, 1, 1]).int())),
                 error_name(lambda: torch.nn.Parameter(torch.tensor([1, 2]))),
                 error_name(lambda: torch.rand(2, 3).item()),
                 torch.nn.CrossEntropyLoss()(torch.zeros(3, 2), torch.tensor([0, 1, 1]).long()).item(),
                 torch.nn.BCEWithLogitsLoss()(torch.zeros(3), torch.tensor([0, 1, 1]).type(torch.float)).item()]

device = "cuda" if torch.cuda.is_available() else "cpu"
tensor_on_device = torch.tensor([1, 2, 3]).to(device)
devices = [device, str(tensor_on_device.device), tensor_on_device.cpu().numpy().tolist(), torch.cuda.device_count()]

results = {
    "basics": basics, "range_facts": range_facts, "dtype_facts": dtype_facts, "attributes": attributes,
    "arithmetic": arithmetic, "shape_errors": shape_errors, "matmuls": matmuls,
    "linear_output": linear_output.detach(), "linear_shapes": [list(linear.weight.shape), list(linear_output.shape)],
    "aggregation": aggregation, "reshaping": reshaping, "indexing": indexing, "numpy_interop": numpy_interop,
    "reproducibility": reproducibility, "common_errors": common_errors, "devices": devices,
}
