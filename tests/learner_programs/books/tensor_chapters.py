# "Deep Learning with PyTorch", chapters 3 and 4 (written for this project): a tensor's storage, offsets and
# strides, a change through the storage and through a transposed view, a grayscale conversion with unsqueeze
# and with einsum (the book's named dimensions are gone from PyTorch 2.13); then real
# data as tensors: uint8 images to normalised floats channel by channel, wine-quality rows split by masks and a
# one-hot target with scatter_, hourly bike counts reshaped to days with a one-hot weather block and rescaled
# temperatures, and a line of text one-hot encoded by character.
import warnings

import numpy as np
import torch

warnings.filterwarnings("ignore", message="TypedStorage is deprecated")

points = torch.tensor([[4.0, 1.0], [5.0, 3.0], [2.0, 1.0]])
points_storage = points.storage()
storage_entries = list(points_storage)
points_storage[0] = 2.0
second_point = points[1]
points_t = points.t()
layout = [second_point.storage_offset(), list(second_point.size()), list(points.stride()), list(points_t.stride()),
          points_t.is_contiguous(), points_t.untyped_storage().data_ptr() == points.untyped_storage().data_ptr()]
points_t[0, 2] = 9.0  # changes points[2, 0]
some_t = torch.ones(3, 4, 5)
transpose_t = some_t.transpose(0, 2)

img_t = torch.from_numpy(np.linspace(0, 1, 2 * 3 * 4 * 4).reshape(2, 3, 4, 4))
weights = torch.tensor([0.2126, 0.7152, 0.0722], dtype=torch.float64)
unsqueezed_weights = weights.unsqueeze(-1).unsqueeze_(-1)
img_gray_weighted = (img_t * unsqueezed_weights).sum(-3)
img_gray_weighted_fancy = torch.einsum("...chw,c->...hw", img_t, weights)

batch_size = 3
batch = torch.zeros(batch_size, 3, 4, 4, dtype=torch.uint8)
for i in range(batch_size):
    img_arr = (np.arange(48).reshape(4, 4, 3) * (i + 2) % 256).astype(np.uint8)
    batch[i] = torch.from_numpy(img_arr).permute(2, 0, 1)
batch = batch.float()
batch /= 255.0
n_channels = batch.shape[1]
for c in range(n_channels):
    mean = torch.mean(batch[:, c])
    std = torch.std(batch[:, c])
    batch[:, c] = (batch[:, c] - mean) / std

wineq = torch.from_numpy(np.linspace(1, 9, 12 * 5).reshape(12, 5).astype(np.float32))
data = wineq[:, :-1]
target = wineq[:, -1].long()
target_onehot = torch.zeros(target.shape[0], 10)
target_onehot.scatter_(1, target.unsqueeze(1), 1.0)
data_mean = torch.mean(data, dim=0)
data_var = torch.var(data, dim=0)
data_normalized = (data - data_mean) / torch.sqrt(data_var)
bad_indexes = target <= 3
bad_data, mid_data = data[bad_indexes], data[(target > 3) & (target < 7)]
good_data = data[target >= 7]
predicted_indexes = data[:, 3].le(5.0)
actual_indexes = target > 5
n_matches = torch.sum(actual_indexes & predicted_indexes).item()

bikes = torch.from_numpy((np.arange(48 * 17) % 4 + 1).reshape(48, 17).astype(np.float32))
daily_bikes = bikes.view(-1, 24, bikes.shape[1])
daily_shape = [list(daily_bikes.shape), list(daily_bikes.stride())]
daily_bikes = daily_bikes.transpose(1, 2)
first_day = bikes[:24].long()
weather_onehot = torch.zeros(first_day.shape[0], 4)
weather_onehot.scatter_(dim=1, index=first_day[:, 9].unsqueeze(1).long() - 1, value=1.0)
first_day_with_weather = torch.cat((bikes[:24], weather_onehot), 1)
daily_weather_onehot = torch.zeros(daily_bikes.shape[0], 4, daily_bikes.shape[2])
daily_weather_onehot.scatter_(1, daily_bikes[:, 9, :].long().unsqueeze(1) - 1, 1.0)
daily_bikes = torch.cat((daily_bikes, daily_weather_onehot), dim=1)
daily_bikes[:, 9, :] = (daily_bikes[:, 9, :] - 1.0) / 3.0
temp = daily_bikes[:, 10, :]
temp_min, temp_max = torch.min(temp), torch.max(temp)
daily_bikes[:, 10, :] = (daily_bikes[:, 10, :] - temp_min) / (temp_max - temp_min)

line = "Impossible, Mr. Bennet, impossible"
letter_t = torch.zeros(len(line), 128)
for i, letter in enumerate(line.lower().strip()):
    letter_index = ord(letter) if ord(letter) < 128 else 0
    letter_t[i][letter_index] = 1

results = {
    "storage_entries": storage_entries,
    "points": points,
    "layout": layout,
    "transpose": [list(transpose_t.shape), list(transpose_t.stride()), list(some_t.stride())],
    "gray": img_gray_weighted,
    "gray_fancy": img_gray_weighted_fancy,
    "batch": batch[:, :, 0, :2],
    "target_onehot": target_onehot.sum(0),
    "data_normalized": data_normalized[:3],
    "means": [bad_data.mean(0).tolist(), mid_data.mean(0).tolist(), good_data.mean(0).tolist()],
    "n_matches": n_matches,
    "daily_shape": daily_shape,
    "first_day_with_weather": first_day_with_weather.sum(0),
    "daily_bikes": daily_bikes[:, 9:12, :3],
    "letters": letter_t.argmax(1),
}
